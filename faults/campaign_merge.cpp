#include "faults/campaign_merge.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "faults/campaign_db.h"
#include "faults/campaign_shard.h"
#include "faults/fault_space.h"

namespace axsa::faults {

namespace {

namespace fs = std::filesystem;

struct shard_file {
  std::string path;
  std::unique_ptr<campaign_db> db;
  campaign_config cfg;
};

// The configuration as stored, without the shard: what every shard of one campaign shares.
std::vector<std::pair<std::string, std::string>> shared_keys(campaign_config cfg) {
  cfg.shard = shard_spec{};
  return cfg.to_key_values();
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::equivalent(a, b, ec)) return true;
  // An output that does not exist yet is compared by its spelled-out absolute path.
  const fs::path pa = fs::absolute(a, ec).lexically_normal(), pb = fs::absolute(b, ec).lexically_normal();
  return pa == pb;
}

void remove_output(const std::string& out) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((out + suffix).c_str());
}

}  // namespace

merge_summary merge_shards(const std::string& out, const std::vector<std::string>& paths, const merge_options& options) {
  if (paths.empty()) throw config_error("expects the output database and at least one shard: axsa merge OUT.db SHARD.db...");
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (same_file(out, paths[i])) {
      throw config_error("the output " + out + " is also a shard (" + paths[i] + "); write the merge to a new file");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (same_file(paths[i], paths[j])) {
        throw config_error(paths[i] + " is given twice" + (paths[i] == paths[j] ? "" : " (also as " + paths[j] + ")"));
      }
    }
  }

  std::vector<shard_file> shards;
  for (const std::string& path : paths) {
    shard_file s;
    s.path = path;
    s.db = std::make_unique<campaign_db>(campaign_db::open_read_only(path));
    s.cfg = s.db->config();
    if (s.cfg.shard.whole()) {
      throw config_error(path + " is not a shard: its campaign ran the whole sample (no --shard I/N)");
    }
    shards.push_back(std::move(s));
  }

  // One campaign: every key but the shard, then the golden run.
  const shard_file& first = shards.front();
  const auto reference = shared_keys(first.cfg);
  const std::vector<int> labels = first.db->golden_labels();
  const std::vector<std::vector<double>> probabilities = first.db->golden_probabilities();
  for (const shard_file& s : shards) {
    const auto keys = shared_keys(s.cfg);
    for (std::size_t k = 0; k < reference.size(); ++k) {
      if (keys[k] != reference[k]) {
        throw config_error(s.path + " is a shard of another campaign: it has " + keys[k].first + " = '" + keys[k].second +
                           "', " + first.path + " has '" + reference[k].second + "'");
      }
    }
    if (s.db->golden_labels() != labels || s.db->golden_probabilities() != probabilities) {
      throw config_error(s.path + " is a shard of another campaign: its golden run differs from " + first.path + "'s");
    }
  }

  // Disjoint and complete: one split, each shard once, none missing.
  const std::uint64_t count = first.cfg.shard.count;
  std::map<std::uint64_t, const shard_file*> by_index;
  for (const shard_file& s : shards) {
    if (s.cfg.shard.count != count) {
      throw config_error(s.path + " is shard " + s.cfg.shard.str() + " but " + first.path + " is shard " +
                         first.cfg.shard.str() + ": slices of different splits overlap");
    }
    const auto [it, inserted] = by_index.emplace(s.cfg.shard.index, &s);
    if (!inserted) {
      throw config_error(it->second->path + " and " + s.path + " are both shard " + s.cfg.shard.str() +
                         ": their faults overlap");
    }
  }
  if (by_index.size() != count) {
    std::string missing;
    std::uint64_t n_missing = 0;
    for (std::uint64_t i = 1; i <= count; ++i) {
      if (by_index.count(i)) continue;
      if (++n_missing <= 8) missing += (missing.empty() ? "" : ", ") + shard_spec{i, count}.str();
    }
    if (n_missing > 8) missing += ", ...";
    throw config_error(std::string(n_missing == 1 ? "shard " : "shards ") + missing + (n_missing == 1 ? " is" : " are") +
                       " missing (" + std::to_string(n_missing) + " of " + std::to_string(count) + ")");
  }

  // Each fault list must be its slice of the sample, which the configuration determines.
  const campaign_config& cfg = first.cfg;
  std::vector<fault> sample;
  try {
    sample = campaign_sample(cfg);
  } catch (const config_error& e) {
    throw config_error(first.path + ": " + e.what());
  }
  merge_summary summary;
  summary.shards = shards.size();
  summary.sample_size = sample.size();
  for (const auto& [index, s] : by_index) {
    const std::vector<fault> stored = s->db->faults();
    const std::uint64_t slice = s->cfg.shard.size(sample.size());
    if (!stored.empty() && stored != shard_slice(sample, s->cfg.shard)) {
      throw config_error(s->path + ": its fault list is not slice " + s->cfg.shard.str() +
                         " of the campaign's sample (redrawn from its seed)");
    }
    const std::uint64_t done = s->db->completed_faults();
    if (!options.partial && done < slice) {
      throw config_error(s->path + ": shard " + s->cfg.shard.str() + " is incomplete (" + std::to_string(done) + " of " +
                         std::to_string(slice) + " faults done); finish it with --resume or merge with --partial");
    }
  }

  // Write: a file left half-written by a failure would pass for a campaign, so it is removed.
  campaign_config merged = cfg;
  merged.shard = shard_spec{};
  // create() refuses an existing file (unless overwrite) before touching it.
  std::optional<campaign_db> db(campaign_db::create(out, merged, options.overwrite));
  try {
    db->store_golden(labels, probabilities);
    db->store_faults(sample);
    for (const auto& entry : by_index) {
      const auto& s = entry.second;  // a named variable: lambdas cannot capture structured bindings in C++17
      std::vector<std::pair<std::uint64_t, std::vector<pair_result>>> batch;
      std::vector<std::string> engines;  // each fault's engine, as its shard recorded it
      auto flush = [&] {
        if (batch.empty()) return;
        db->store_results_batch(batch, engines);
        batch.clear();
        engines.clear();
      };
      s->db->for_each_fault_results([&](std::uint64_t id, std::vector<pair_result>&& results) {
        ++summary.faults_done;
        summary.pairs += results.size();
        engines.push_back(s->db->engine_of(id));
        batch.emplace_back(id, std::move(results));
        if (batch.size() >= 4096) flush();
      });
      flush();
    }
  } catch (...) {
    db.reset();
    remove_output(out);
    throw;
  }
  return summary;
}

}  // namespace axsa::faults
