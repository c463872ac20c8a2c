// EPSILON (shared/seeds/002_*.txt, Algorithm 1) on the accelerator, and the baselines it is compared
// with: permanent stuck-at faults in the weight memory at the fault points FP1..FP4, statistical
// weight signatures made before deployment, and at run time a check of every layer's weights (read
// back over the bus) whenever no exit is confident, with outliers of flagged layers replaced by the
// nearest quartile and written back. The choices the paper leaves open are options, explained in
// docs/epsilon.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sw/gemm_backend.h"
#include "sw/idx.h"
#include "sw/inference.h"
#include "sw/quantized_network.h"

namespace axsa::epsilon {

// ---- Fault points and weight-memory faults --------------------------------------------------

// The GEMM layers of a network in the order they are checked: the trunk's, then each exit head's.
std::vector<const sw::qlayer*> weight_layers(const sw::qnetwork& net);

// FP4 is the first trunk GEMM, FP1 the last (it feeds the final exit); FP3 and FP2 are the trunk
// GEMMs that feed internal exits (the last trunk GEMM before an exit's branch point) nearest to one
// and two thirds of the way from FP4 to FP1. Index 0 of the result is FP1, 3 is FP4.
struct fault_point {
  std::string name;            // "FP1".."FP4"
  std::size_t trunk_layer;     // index in qnetwork::layers
  const sw::qlayer* layer;
};
std::vector<fault_point> fault_points(const sw::qnetwork& net);
// "FP1".."FP4" (case-insensitive) -> 0..3; config_error naming the text otherwise.
std::size_t parse_fault_point(const std::string& text);

struct fault_spec {
  std::size_t point = 0;  // 0 = FP1 .. 3 = FP4
  double rate = 0.1;      // share of the layer's weights that are faulty, in (0, 1)
  bool stuck_value = false;
  int stuck_bit = -1;     // -1: uniform over the W bits, per faulty weight
  std::uint64_t seed = 1;
};
// The faulty weights: round(rate x count) distinct positions, uniform (seeded), each with its bit.
std::vector<sw::stuck_weight_bit> draw_faults(std::size_t count, unsigned bits, const fault_spec& spec);

// ---- Signatures (before deployment) ------------------------------------------------------------

enum class pattern_kind { histogram, zeros };    // the sparsity pattern rho_l
enum class score_units { sigma, share };         // how the pattern score meets T_l
enum class candidate_set { quartiles, quartiles_minmax };

struct options {
  double m = 3.0;                  // T_l = (m + alpha_l) sigma_l
  double alpha = -1;               // < 0: alpha_l = beta_p * gamma_s per layer; else every layer's alpha
  double beta_min = 0.5;           // positional importance falls linearly from 1 to this
  pattern_kind pattern = pattern_kind::histogram;
  unsigned bins = 16;              // histogram bins over [-Q, Q]
  score_units units = score_units::sigma;
  candidate_set candidates = candidate_set::quartiles;
};
pattern_kind parse_pattern(const std::string& text);
score_units parse_units(const std::string& text);
candidate_set parse_candidates(const std::string& text);
const char* to_string(pattern_kind p);
const char* to_string(score_units u);
const char* to_string(candidate_set c);

struct layer_signature {
  std::string name;
  std::size_t count = 0;
  double mean = 0, stddev = 0;
  std::array<double, 5> quantiles{};  // min, Q1, median, Q3, max
  std::vector<double> pattern;        // share of the weights in each bin
  double zero_share = 0;
  double beta = 0, gamma_s = 0, alpha = 0;
};

struct signature_set {
  std::string model;             // the model file's name
  std::string weights_sha256;    // of the quantised weights it was made from
  unsigned bits = 8;
  pattern_kind pattern = pattern_kind::histogram;
  unsigned bins = 16;
  std::vector<layer_signature> layers;  // weight_layers() order
};

signature_set make_signatures(const sw::qnetwork& net, const options& opt);
// Text file, one line per layer (under 1 KB each). read_signatures checks that the file was made
// for this network's quantised weights and pattern; config_error naming the file otherwise.
void write_signatures(const std::string& path, const signature_set& s);
signature_set read_signatures(const std::string& path, const sw::qnetwork& net, const options& opt);
std::string weights_digest(const sw::qnetwork& net);

// ---- Detection and correction ---------------------------------------------------------------------

std::vector<double> pattern_of(const std::vector<std::int16_t>& w, pattern_kind kind, unsigned bins, unsigned bits);
// Eq. 6 in the chosen units (docs/epsilon.md).
double pattern_score(const layer_signature& sig, const std::vector<std::int16_t>& w, const options& opt, unsigned bits);
double threshold(const layer_signature& sig, const options& opt);  // T_l in weight units
bool flags(const layer_signature& sig, const std::vector<std::int16_t>& w, const options& opt, unsigned bits);
// Replaces every weight with |w - mean| > T_l by the nearest candidate; returns how many changed.
std::size_t correct(const layer_signature& sig, std::vector<std::int16_t>& w, const options& opt);

// ---- Techniques ---------------------------------------------------------------------------------------

enum class technique { vanilla, mendnet, epsilon };
technique parse_technique(const std::string& text);
const char* to_string(technique t);

// Energy score of MENDNet: the negative log-sum-exp of the dequantised logits.
double energy_score(const std::vector<std::int64_t>& logits, double acc_scale);

struct run_options {
  technique tech = technique::epsilon;
  double gamma = 0.5;   // exit confidence threshold (mendnet, epsilon)
  double tau = 0.0;     // mendnet: stop only where the energy score is <= tau
  std::size_t batch = 28;
  options eps;
};

struct run_result {
  sw::inference_result inference;     // predictions (after any rerun), exits taken, GEMM costs
  std::vector<bool> image_flagged;    // the fault flag returned with each prediction
  std::size_t analyses = 0;           // times the weights were read back and checked
  std::size_t layers_flagged = 0;     // over all analyses
  std::size_t weights_corrected = 0;  // over all analyses
  std::size_t reruns = 0;             // images run again after a correction
  sw::gemm_stats extra;               // read-back, write-back and rerun costs
  std::vector<std::size_t> flags_per_layer;  // weight_layers() order
};

// Writes every layer's golden weights into the backend's weight memory (deployment).
sw::gemm_stats deploy(const sw::qnetwork& net, sw::gemm_backend& backend);
// Sticks the spec's bits in its fault point's layer (after deploy). Returns the bits.
std::vector<sw::stuck_weight_bit> inject(const sw::qnetwork& net, sw::gemm_backend& backend, const fault_spec& spec);

// The fault-free activations entering each fault point's layer, batch by batch, and what the
// layers before it cost: a vanilla run with faults at FP1..FP3 starts there, since nothing before
// the faulty layer can differ (the grid's shortcut; identical results, tested).
struct golden_prefix {
  std::size_t first = 0, count = 0, batch = 0;
  std::vector<std::size_t> layers;                              // trunk layer index of FP1..FP4
  std::vector<std::vector<std::vector<std::int16_t>>> inputs;   // [batch][fault point]
  std::vector<std::vector<sw::gemm_stats>> cost;                // [batch][fault point]: layers before it
};
golden_prefix record_prefix(const sw::qnetwork& net, sw::gemm_backend& backend, const sw::idx_images& images,
                            std::size_t first, std::size_t count, std::size_t batch);

// Runs images [first, first + count) with the technique. `signatures` is needed for epsilon. With
// `prefix` (made on the same images, batch and multiplier) a vanilla run starts at `from_point`'s
// layer.
run_result run(const sw::qnetwork& net, sw::gemm_backend& backend, const sw::idx_images& images, std::size_t first,
               std::size_t count, const run_options& opt, const signature_set* signatures,
               const golden_prefix* prefix = nullptr, std::size_t from_point = 0);

}  // namespace axsa::epsilon
