// Results store of a fault-injection campaign: one SQLite file holding the campaign's
// configuration, the golden (fault-free) run, the sampled fault list and every (fault, image)
// outcome, plus the statistics the reports draw from it (docs/campaigns.md).
// Writes are transactions in WAL mode with synchronous=NORMAL: each store_* call is atomic, so a
// campaign killed at any point resumes with exactly the faults that have no results yet.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "faults/fault.h"

struct sqlite3;

namespace axsa::faults {

// What one fault did to the classification of one image (stored as the integer value).
enum class outcome : int { masked = 0, tolerable = 1, critical = 2, crash = 3, hang = 4 };
constexpr std::size_t outcome_count = 5;
const char* to_string(outcome o);  // "masked", "tolerable", "critical", "crash", "hang"

struct pair_result {
  std::uint32_t image = 0;  // index of the test image in the data set
  outcome result = outcome::masked;
  int golden_label = -1;
  int faulty_label = -1;  // -1 when the run produced no label (crash, hang)
  double ratio = 0;       // max(Y') / max(Y); NaN (stored as NULL) when there is none
};

// Everything that defines a campaign; stored as key/value text in the config table.
struct campaign_config {
  std::string model_path, model_sha256, data_dir;
  unsigned bits = 8, acc_bits = 32, rows = 28, cols = 28;
  std::string mult = "exact", mult_eval = "table", engine = "shortcut";  // engine: shortcut | systemc
  std::string site = "weight-link", fault_types = "stuck-at";           // weight-link|weight-mult; stuck-at|bit-flip|all
  std::size_t first_image = 0, images = 0, batch = 0;
  double confidence = 0.99, margin = 0.01, p = 0.5;
  bool exhaustive = false;
  std::uint64_t seed = 1;
  std::uint64_t population = 0;     // size of the fault space N
  std::uint64_t sample_size = 0;    // faults drawn n
  std::uint64_t golden_cycles = 0;  // array cycles of the golden run over the images
  std::string version;              // axsa version string

  bool operator==(const campaign_config& o) const;  // field-wise
  bool operator!=(const campaign_config& o) const { return !(*this == o); }
  // The stored form: (key, value) in a fixed order; doubles keep all 17 digits, so the text
  // comparison on resume is exactly the field-wise one.
  std::vector<std::pair<std::string, std::string>> to_key_values() const;
  // Throws config_error naming the key for a missing or malformed value.
  static campaign_config from_key_values(const std::vector<std::pair<std::string, std::string>>& kv);
};

// The statistics of the summary (docs/campaigns.md); their own namespace keeps them apart from
// the sampler's helpers in faults/fault_space.h.
namespace stats {
double normal_quantile(double probability);  // inverse standard normal CDF, probability in (0, 1)
double t_for_confidence(double confidence);  // normal_quantile((1 + confidence) / 2): 2.5758 for 0.99
// Achieved margin of error of n faults out of N: t * sqrt(p(1-p)/n * (N-n)/(N-1)); 0 when n >= N,
// NaN when n = 0.
double margin_of_error(std::uint64_t population, std::uint64_t n, double t, double p = 0.5);
}  // namespace stats

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
  // Several faults in one transaction (the engine batches to keep commits cheap).
  void store_results_batch(const std::vector<std::pair<std::uint64_t, std::vector<pair_result>>>& batch);
  std::vector<pair_result> results(std::uint64_t fault_id) const;  // by image
  std::uint64_t completed_faults() const;

  struct interval {
    double low = 0, high = 0;  // NaN when it cannot be estimated (a single fault of a larger space)
  };
  // One outcome class over all pairs; the interval treats the fault as the sampling unit.
  struct class_share {
    std::uint64_t pairs = 0;      // (fault, image) pairs with this outcome
    std::uint64_t faults = 0;     // faults with this outcome on at least one image
    double fraction = 0;          // pairs / all pairs (NaN with no pairs)
    double std_error = 0;         // cluster standard error of fraction, with the finite-population correction
    interval ci;                  // fraction -/+ t * std_error, clipped to [0, 1]
  };
  // Pair counts of a group of faults (one PE, one bit, one kind).
  struct group_counts {
    std::uint64_t faults = 0, pairs = 0;
    std::array<std::uint64_t, outcome_count> by_outcome{};  // indexed by outcome
  };
  struct summary {
    campaign_config config;
    std::uint64_t faults_stored = 0;    // the sample as stored (sample_size once the engine has drawn it)
    std::uint64_t faults_done = 0;      // faults with results: the n of every statistic below
    std::uint64_t pairs = 0;            // (fault, image) pairs recorded
    bool complete = false;              // every fault of the sample has results
    double fault_space_share = 0;       // faults_done / population
    double t = 0;                       // normal quantile of the confidence
    double margin = 0;                  // achieved margin of error (p = 0.5, n = faults_done)
    double planned_margin = 0;          // the same for the whole sample (n = sample_size)
    std::array<class_share, outcome_count> classes{};  // indexed by outcome
    std::vector<group_counts> per_pe;   // rows x cols, index row * cols + col
    std::vector<group_counts> per_bit;  // bits 0 .. bits-1
    std::array<group_counts, 3> per_kind{};  // indexed by fault_kind
  };
  summary summarize() const;

 private:
  campaign_db(sqlite3* db, std::string path);
  static campaign_db open_writable(const std::string& path, bool create);
  void initialise(const campaign_config& cfg);
  // config_error naming what is wrong unless the stored config is valid, every table is there,
  // every stored fault fits the config and every result has an outcome code of a stored fault.
  void check_contents() const;
  void close() noexcept;

  sqlite3* m_db = nullptr;
  std::string m_path;
};

}  // namespace axsa::faults
