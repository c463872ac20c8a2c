// The fault-injection campaign engine (docs/campaigns.md): a golden run, then every fault of a
// sample run over the same images and classified per (fault, image) pair.
//
// Two engines compute the faulty outputs:
//  - shortcut_engine (default): the golden run plus the fault's exact effect, propagated as a change.
//    It lays out the run's cycles as the host driver issues its jobs (same batches, layers, M tiles,
//    folds), finds which (output, k) products the saboteur changes (fault_rectangles), and carries
//    only what differs from the golden run from layer to layer: accumulator changes on the golden
//    sums, requantised outputs compared with the golden activations, pools and ReLUs recomputed
//    where an input changed. A layer whose changed inputs are many runs whole on the functional
//    twin instead. A batch stops as soon as nothing differs and no later job is touched. Its outputs
//    equal the full simulation's.
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
  const std::vector<std::vector<std::vector<std::int16_t>>>& inputs() const { return m_inputs; }
  // GEMM outputs (accumulator sums, without bias) of GEMM layer l in batch b (M x N); empty for
  // other layers.
  const std::vector<std::int64_t>& sums(std::size_t batch, std::size_t layer) const { return m_sums[batch][layer]; }
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
  std::vector<std::vector<std::vector<std::int64_t>>> m_sums;    // [batch][layer]
  std::vector<job_span> m_jobs;
  std::uint64_t m_cycles = 0;
};

// Faulty logits of every image for one fault. One instance per thread: it holds a working copy of
// the golden activations that each fault patches and restores.
class shortcut_engine {
 public:
  explicit shortcut_engine(const golden_reference& golden);
  std::vector<std::vector<std::int64_t>> run(const fault& f);
  // GEMM layers run so far as changes (sparse) and whole on the twin (dense): for tests and tuning.
  std::uint64_t sparse_layers() const { return m_sparse_layers; }
  std::uint64_t dense_layers() const { return m_dense_layers; }

 private:
  struct change {
    std::size_t index;    // into the activations entering a layer (nb x layer input)
    std::int16_t value;   // the faulty value there
  };
  void run_batch(std::size_t b, const std::vector<const job_span*>& touched, const fault& f,
                 std::vector<std::vector<std::int64_t>>& out);
  // GEMM layer li of batch b: accumulator changes of the rows in m_rows from the input changes and
  // the fault's products, or the whole GEMM on the twin when the changes are dense.
  void gemm_changes(std::size_t b, std::size_t li, const std::vector<change>& in, const std::vector<const job_span*>& jobs,
                    const fault& f);
  void mark_row(std::size_t m);

  const golden_reference& m_golden;
  sw::functional_engine m_twin;
  std::vector<std::vector<std::vector<std::int16_t>>> m_work;  // golden activations, patched per fault
  std::vector<std::vector<std::int32_t>> m_im2col;             // per conv layer: sw::im2col_offsets
  std::vector<std::int64_t> m_delta;                           // accumulator changes, M x N (zero outside m_rows)
  std::vector<std::int64_t> m_full;                            // the dense path's GEMM outputs
  std::vector<std::int16_t> m_act;                             // the dense path's im2col
  std::vector<std::uint8_t> m_row_marked, m_out_marked;
  std::vector<std::size_t> m_rows, m_outs;
  bool m_dense = false;                                        // the last gemm_changes ran whole
  std::uint64_t m_sparse_layers = 0, m_dense_layers = 0;
};

// The products fault f changes in one job, fold by fold: output column n of the GEMM call, its rows
// [m_begin, m_end) (the faulty PE's row and, for a link fault, every row below it in the fold), and
// the k in [k_lo, k_hi] whose weight passes the PE inside the fault's window. A product in the
// rectangle uses f.apply(weight) instead of the weight (and is unchanged where that is the same).
struct fault_rectangle {
  std::size_t m_begin = 0, m_end = 0, n = 0, k_lo = 0, k_hi = 0;
};
std::vector<fault_rectangle> fault_rectangles(const job_span& job, const fault& f, const hw::array_config& cfg);

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
