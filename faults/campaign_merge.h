// Merging the shards of one campaign into one database (axsa merge, docs/scale-out.md). The shards
// must be the slices 1/N..N/N of one campaign: the same configuration apart from the shard, the
// same golden run, each fault list exactly its slice of the sample redrawn from the configuration,
// and (unless partial) every fault with results. The merged file is what a single process would
// have written: the unsharded configuration, the golden run, the whole fault list, every result.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace axsa::faults {

struct merge_options {
  bool partial = false;    // accept shards with pending faults (they stay pending in the merged file)
  bool overwrite = false;  // replace an existing campaign database at the output path
};

struct merge_summary {
  std::uint64_t shards = 0, sample_size = 0, faults_done = 0, pairs = 0;
};

// Checks the shard set and writes `out`. A bad set is a config_error of one line naming the file and
// the problem: a file given twice, the output among the inputs, a file that is not a campaign
// database or not a shard, a different campaign, a different golden run, shards of different
// splits or the same shard twice (overlap), a missing shard, a fault list that is not the shard's
// slice, an incomplete shard without `partial`. Nothing is written before every check has passed;
// a failure while writing removes the output again.
merge_summary merge_shards(const std::string& out, const std::vector<std::string>& shards, const merge_options& options);

}  // namespace axsa::faults
