// Results store of a fault-injection campaign: one SQLite file holding the campaign's
// configuration, the golden (fault-free) run, the sampled fault list and every (fault, image)
// outcome, plus the statistics the reports draw from it (docs/campaigns.md).
// Writes are transactions in WAL mode with synchronous=NORMAL: each store_* call is atomic, so a
// campaign killed at any point resumes with exactly the faults that have no results yet.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "faults/campaign_config.h"
#include "faults/campaign_stats.h"
#include "hw/fault.h"

struct sqlite3;

namespace axsa::faults {

class campaign_db {
 public:
  // Creates a campaign database. An existing non-empty file is a config_error naming it unless
  // overwrite is set; even then only an axsa campaign database (or an empty file) is replaced.
  // Anything at path that is not a regular file (a FIFO, a device, a directory) is refused, and
  // so is a folder the process may not write in, naming the reason.
  static campaign_db create(const std::string& path, const campaign_config& cfg, bool overwrite);
  // Reopens a campaign to continue it (creates it when the file does not exist or is empty).
  // A stored config that differs from cfg is a config_error naming the first differing key and
  // both values; so is a database open_read_only would refuse.
  static campaign_db resume(const std::string& path, const campaign_config& cfg);
  // For reports; works while a campaign is writing, and in a folder the reader may not write.
  // config_error if the file is missing, is not a campaign database, or holds what no campaign
  // writes: a config outside the campaign's ranges, a missing table, a fault that does not fit
  // the stored array, an unknown outcome code.
  static campaign_db open_read_only(const std::string& path);

  campaign_db(campaign_db&& other) noexcept;
  campaign_db& operator=(campaign_db&& other) noexcept;
  campaign_db(const campaign_db&) = delete;
  campaign_db& operator=(const campaign_db&) = delete;
  ~campaign_db();

  const std::string& path() const { return m_path; }
  campaign_config config() const;

  // One label and one probability vector per image of the campaign, in image order (replaces any
  // stored golden run).
  void store_golden(const std::vector<int>& labels, const std::vector<std::vector<double>>& probabilities);
  bool has_golden() const;
  std::vector<int> golden_labels() const;
  std::vector<std::vector<double>> golden_probabilities() const;

  // The sampled fault list, stored once with ids 0..n-1 in order (one transaction). Storing the
  // same list again (a resumed campaign re-drawing its sample) is a no-op; a different one is a
  // config_error. A window ending at the maximum cycle (permanent fault) is stored as NULL.
  void store_faults(const std::vector<fault>& faults);
  std::vector<fault> faults() const;                  // in id order; config_error for one the config rules out
  std::uint64_t fault_count() const;                  // faults stored
  std::vector<std::uint64_t> pending_faults() const;  // ids with no results yet, ascending

  // All pair results of one fault in one transaction: a fault is fully recorded or not at all.
  // Throws std::invalid_argument for an empty list or an unknown fault id, std::runtime_error
  // (naming the file) if SQLite refuses, e.g. for results of a fault that already has them.
  void store_results(std::uint64_t fault_id, const std::vector<pair_result>& results);
  // Several faults in one transaction (the engine batches to keep commits cheap); with `engines`
  // (one per fault, e.g. "shortcut" or "systemc"; "" for none) also which engine computed each fault.
  void store_results_batch(const std::vector<std::pair<std::uint64_t, std::vector<pair_result>>>& batch);
  void store_results_batch(const std::vector<std::pair<std::uint64_t, std::vector<pair_result>>>& batch,
                           const std::vector<std::string>& engines);
  // The engine recorded for a fault ("" when none is: a database from before the record existed,
  // or results stored without it; axsa merge copies each shard's record).
  std::string engine_of(std::uint64_t fault_id) const;
  // Completed faults per engine; those without a record count as "unrecorded".
  std::map<std::string, std::uint64_t> engine_counts() const;
  std::vector<pair_result> results(std::uint64_t fault_id) const;  // by image
  // Every fault's results in one read transaction, ascending by fault id, each by image.
  void for_each_fault_results(const std::function<void(std::uint64_t, std::vector<pair_result>&&)>& visit) const;
  std::uint64_t completed_faults() const;

  // The statistics of the stored results (faults/campaign_stats.h).
  using interval = faults::interval;
  using class_share = faults::class_share;
  using group_counts = faults::group_counts;
  using summary = campaign_summary;
  summary summarize() const;

 private:
  campaign_db(sqlite3* db, std::string path);
  static campaign_db open_writable(const std::string& path, bool create);
  void initialise(const campaign_config& cfg);
  // config_error naming what is wrong unless the stored config is valid, every table is there,
  // every stored fault fits the config and every result has an outcome code of a stored fault.
  void check_contents() const;
  bool has_engine_table() const;
  shard_spec stored_shard() const;  // the config's shard alone (1/1 without one)
  void close() noexcept;

  sqlite3* m_db = nullptr;
  std::string m_path;
};

}  // namespace axsa::faults
