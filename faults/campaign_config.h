// What a campaign is and what it found, as plain values: the outcome of one (fault, image) pair and
// the configuration that defines a campaign, with its stored key/value form (docs/campaigns.md).
// No SQLite here: faults/campaign_db.h stores these.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "faults/campaign_shard.h"
#include "faults/fault_space.h"

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
  std::string mult = "exact", mult_eval = "table", engine = "shortcut";  // engine: shortcut | systemc | structural
  std::string operand_align = "low";  // low | high (hw::operand_align); stored only when high
  // site: one of weight-link|weight-mult|act-link|act-mult|acc, or a comma-separated list of them;
  // fault_types: stuck-at|bit-flip|all.
  std::string site = "weight-link", fault_types = "stuck-at";
  std::size_t first_image = 0, images = 0, batch = 0;
  double confidence = 0.99, margin = 0.01, p = 0.5;
  bool exhaustive = false;
  std::uint64_t seed = 1;
  std::uint64_t population = 0;     // size of the fault space N
  std::uint64_t sample_size = 0;    // faults drawn n
  std::uint64_t golden_cycles = 0;  // array cycles of the golden run over the images
  std::string version;              // axsa version string
  shard_spec shard;                 // the slice of the sample this database runs (1/1: all of it)
  std::string logits = "dequantized";  // how outputs are read: dequantized | requantized (sw::logits_convention)
  // uniform | stratified (faults/stratified.h). A stratified campaign also stores its pilot size per
  // stratum and the allocation it planned, n_h per stratum ("n_1,n_2,..."), whose sum is sample_size.
  std::string sampling = "uniform";
  std::uint64_t pilot = 0;
  std::string strata;

  bool operator==(const campaign_config& o) const;  // field-wise
  bool operator!=(const campaign_config& o) const { return !(*this == o); }
  // The stored form: (key, value) in a fixed order; doubles keep all 17 digits, so the text
  // comparison on resume is exactly the field-wise one. `shard` is stored only for a real shard
  // (N > 1), so a whole campaign's config is the same as before shards existed; `logits` likewise only
  // when requantized, `operand_align` only when high, and `sampling`, `pilot` and `strata` only when
  // stratified.
  std::vector<std::pair<std::string, std::string>> to_key_values() const;
  // Throws config_error naming the key for a missing or malformed value (a missing shard is 1/1).
  static campaign_config from_key_values(const std::vector<std::pair<std::string, std::string>>& kv);
};

// The campaign's fault space and its whole sample in run order (sample_in_run_order with its seed, or
// stratified_sample_in_run_order with its allocation), both determined by the configuration: what a shard or a merge redraws to check a fault list.
fault_space campaign_fault_space(const campaign_config& cfg);
std::vector<fault> campaign_sample(const campaign_config& cfg);

}  // namespace axsa::faults
