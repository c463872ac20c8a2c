// The fault-injection campaign engine (docs/campaigns.md): a golden run, then every fault of a
// sample run over the same images and classified per (fault, image) pair.
//
// Two engines compute the faulty outputs:
//  - shortcut_engine (default): the functional twin plus the fault's exact effect. It lays out the
//    run's cycles as the host driver issues its jobs (same batches, layers, M tiles, folds), finds
//    which (output, k) products the saboteur changes, starts each batch at the first layer the fault
//    can reach (earlier layers are golden), corrects only the affected outputs, and stops a batch as
//    soon as its activations are back on the golden path. Its outputs equal the full simulation's.
//  - systemc_engine: the full cycle-accurate run (host driver, TLM bus, array with the saboteur).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "faults/campaign_db.h"
#include "hw/fault.h"
#include "sw/accelerated_system.h"
#include "sw/functional_engine.h"
#include "sw/inference.h"

namespace axsa::faults {

// Masked / Tolerable / Critical from the golden and faulty output vectors (softmax probabilities),
// as docs/campaigns.md defines them: Masked when Y' == Y exactly; else Tolerable when the top-1
// label is unchanged and max(Y') / max(Y) > 0.95 (ratios of 1 and above included); else Critical.
pair_result classify(std::uint32_t image, const std::vector<double>& golden, const std::vector<double>& faulty);

struct campaign_setup {
  const sw::qnetwork* net = nullptr;
  hw::array_config cfg;
  std::shared_ptr<const hw::multiplier> mult;  // the array's multiplier (nullptr: exact)
  const sw::idx_images* images = nullptr;
  std::size_t first = 0, count = 0, batch = 1;
  tlm_model::buffer_sizes buffers{};           // the driver's buffers: they decide how M is tiled
  sw::logits_convention logits = sw::logits_convention::dequantized;  // how outputs are read (classification)
};

// One start of the accelerator in a run: rows [row0, row0 + shape.m) of one layer's GEMM for one batch.
struct job_span {
  std::size_t batch = 0;   // batch index
  std::size_t layer = 0;   // index in qnetwork::layers
  std::size_t row0 = 0;
  hw::gemm_shape shape;
  std::uint64_t first_cycle = 0;  // array cycles before it in the run
  std::uint64_t cycles = 0;
};

class golden_reference {
 public:
  explicit golden_reference(const campaign_setup& setup);

  const campaign_setup& setup() const { return m_setup; }
  const std::vector<std::vector<std::int64_t>>& logits() const { return m_logits; }
  const std::vector<std::vector<double>>& probabilities() const { return m_probs; }
  std::vector<int> labels() const;
  std::uint64_t cycles() const { return m_cycles; }
  const std::vector<job_span>& jobs() const { return m_jobs; }
  // Activations entering layer l in batch b (nb x layer input).
  const std::vector<std::int16_t>& input(std::size_t batch, std::size_t layer) const { return m_inputs[batch][layer]; }
  std::size_t batches() const { return m_inputs.size(); }
  std::size_t batch_first(std::size_t b) const { return b * m_setup.batch; }
  std::size_t batch_size(std::size_t b) const;
  double logits_scale() const;  // real value of one logits unit
  // Softmax probabilities of one image's logits under the setup's logits convention.
  std::vector<double> probabilities_of(const std::vector<std::int64_t>& logits) const;

 private:
  campaign_setup m_setup;
  std::vector<std::vector<std::int64_t>> m_logits;
  std::vector<std::vector<double>> m_probs;
  std::vector<std::vector<std::vector<std::int16_t>>> m_inputs;  // [batch][layer]
  std::vector<job_span> m_jobs;
  std::uint64_t m_cycles = 0;
};

// Faulty logits of every image for one fault. One instance per thread.
class shortcut_engine {
 public:
  explicit shortcut_engine(const golden_reference& golden);
  std::vector<std::vector<std::int64_t>> run(const fault& f);

 private:
  const golden_reference& m_golden;
  sw::functional_engine m_twin;
};

// Whether fault f can change any product of this job (a cheap, conservative test).
bool may_touch(const job_span& job, const fault& f, const hw::array_config& cfg);
// Applies f's effect to `out` (the job's GEMM outputs, rows of the whole call) in place.
void apply_fault_to_job(const job_span& job, const fault& f, const hw::array_config& cfg, const std::int16_t* act,
                        const std::int16_t* weight, std::int64_t* out, const sw::functional_engine& twin);

// Faulty outputs of a whole run on the cycle-accurate system (call from its host program thread):
// the faults' windows are taken relative to the start of this run. Throws what the run throws.
std::vector<std::vector<std::int64_t>> run_on_system(sw::accelerated_system& sys, const campaign_setup& setup,
                                                     const std::vector<fault>& faults);

// One fault on the cycle-accurate system, classified: a run that overruns the watchdog is a Hang for
// every image, one that throws (a bus error, a failed job) a Crash.
std::vector<pair_result> evaluate_on_system(sw::accelerated_system& sys, const golden_reference& golden, const fault& f);

// Every image's pair result for one fault from its faulty logits (probabilities_of each).
std::vector<pair_result> classify_run(const golden_reference& golden, const std::vector<std::vector<std::int64_t>>& faulty);
// The same when the faulty run failed: every image is a crash or, when it timed out, a hang.
std::vector<pair_result> failed_run(const golden_reference& golden, outcome why);

}  // namespace axsa::faults
