// libFuzzer target: a campaign database (SQLite file) opened as `axsa report` and `axsa campaign --resume`
// open it (faults/campaign_db.h): config, golden run, fault list and results are read back and
// summarised, then the same file is reopened for resuming with its own config. The input is the file's
// bytes; the seeds are small real campaigns, so mutations land in the records' values. Corrupt files are
// config_error or a runtime_error naming the file; nothing else may escape.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "faults/campaign_db.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

std::string scratch_path() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/axsa-fuzz-campaign-" + std::to_string(getpid()) + ".db";
}

void remove_all(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((path + suffix).c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using axsa::faults::campaign_db;
  static const std::string path = scratch_path();
  remove_all(path);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  bool opened = false;
  axsa::faults::campaign_config cfg;
  axsa::fuzz::expect_clean(
      [&] {
        const campaign_db db = campaign_db::open_read_only(path);
        cfg = db.config();
        opened = true;
        const auto s = db.summarize();
        (void)s;
        const auto faults = db.faults();
        if (faults.size() != db.fault_count()) axsa::fuzz::finding("faults() and fault_count() disagree");
        if (db.has_golden()) {
          const auto labels = db.golden_labels();
          const auto probs = db.golden_probabilities();
          if (labels.size() != probs.size()) axsa::fuzz::finding("golden labels and probabilities disagree in count");
        }
        const auto pending = db.pending_faults();
        if (pending.size() + db.completed_faults() != db.fault_count()) {
          axsa::fuzz::finding("pending + completed faults != stored faults");
        }
        // Fault ids are the sample's (a shard's are every N-th), so only their order is known here.
        std::uint64_t visited = 0, last_id = 0;
        db.for_each_fault_results([&](std::uint64_t id, std::vector<axsa::faults::pair_result>&& r) {
          if (r.empty() || (visited > 0 && id <= last_id)) axsa::fuzz::finding("results not grouped by ascending fault");
          last_id = id;
          ++visited;
        });
        (void)visited;
      },
      true);
  if (opened) {
    axsa::fuzz::expect_clean([&] { const campaign_db db = campaign_db::resume(path, cfg); (void)db.pending_faults(); }, true);
  }
  remove_all(path);
  return 0;
}
