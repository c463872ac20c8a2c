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
#include <functional>
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

// One output an accumulator fault changes (acc_fault_outputs): rows of the whole GEMM call.
struct acc_output {
  std::size_t m = 0, n = 0;
  std::int64_t value = 0;  // wrapped to A bits
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
  void non_weight_changes(std::size_t b, std::size_t li, const std::vector<const job_span*>& jobs, const fault& f);
  void dense_acc_changes(const std::vector<const job_span*>& jobs, const fault& f, const std::int16_t* act,
                         const std::int16_t* W, std::size_t K, std::size_t N);
  // The corrupted zeros an acc fault left for job j (empty: none).
  const std::vector<std::uint64_t>& leftover_of(const job_span* j) const {
    static const std::vector<std::uint64_t> none;
    return m_leftover.empty() ? none : m_leftover[static_cast<std::size_t>(j - m_golden.jobs().data())];
  }

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
  std::vector<std::vector<std::uint64_t>> m_leftover;           // per job, for the current acc fault
  std::vector<acc_output> m_acc_out;
  std::uint64_t m_sparse_layers = 0, m_dense_layers = 0;
};

// The products fault f changes in one job, fold by fold: the rows [m_begin, m_end) and output
// columns [n_begin, n_end) of the GEMM call, and the k in [k_lo, k_hi] whose operand passes the PE
// inside the fault's window. Weight sites: one column, the faulty PE's row and, for a link fault,
// every row below it in the fold; a product in the rectangle uses f.apply(weight) instead of the
// weight. Activation sites: one row, the faulty PE's column and, for a link fault, every column east
// of it; a product uses f.apply(activation). Unchanged where the corrupted value is the same.
// Accumulator faults change no product (acc_fault_outputs).
// Valid faults: the faulty PE's own products while a valid bit is forced to 0 are skipped (`skip`).
// Forcing a valid bit to 1 changes no output: inside a fold's tile the two valid bits of a PE are
// set together (both operands carry the same k, hw/dataflow.h), so the other bit is 0 whenever the
// forced one was; outside the tile the PE's sum is no output and the drain flushes it.
// Control faults have no rectangles: they run the full simulation.
struct fault_rectangle {
  std::size_t m_begin = 0, m_end = 0, n_begin = 0, n_end = 0, k_lo = 0, k_hi = 0;
  bool activation = false;  // the fault corrupts the activation operand (else the weight)
  bool skip = false;        // the products are not added at all (a valid fault)
};
std::vector<fault_rectangle> fault_rectangles(const job_span& job, const fault& f, const hw::array_config& cfg);

// Whether fault f can change any product of this job (a cheap, conservative test). For an acc
// fault: whether its window meets the job at all (it may leave corrupted zeros behind, acc_leftover).
bool may_touch(const job_span& job, const fault& f, const hw::array_config& cfg);
// Applies f's product changes to `out` (the job's GEMM outputs, rows of the whole call) in place.
void apply_fault_to_job(const job_span& job, const fault& f, const hw::array_config& cfg, const std::int16_t* act,
                        const std::int16_t* weight, std::int64_t* out, const sw::functional_engine& twin);

// Accumulator faults (site acc on PE (r, c)) act on the register's input at the edge (hw/fault.h),
// so they change sums, not products, and a sum's fate depends on when the fault strikes it:
//  - compute: PE (r, c)'s own sum is corrupted on every active cycle, after that cycle's product;
//  - drain: each sum of rows 0..r-1 of column c is corrupted once, as it is written into PE (r, c)
//    (the sum of row j in drain cycle r-1-j); the zeros entering behind them (drain cycles d >= r)
//    are corrupted too and stay in the array: the next fold (of this job or the next one in the
//    run) starts with them in rows r+R-1-d of column c, added to those sums ("leftovers").
// acc_leftover: the corrupted zeros the job's last fold leaves (R values of column c, empty when
// all are zero); it depends only on the window, not on data.
std::vector<std::uint64_t> acc_leftover(const job_span& job, const fault& f, const hw::array_config& cfg);
// acc_fault_outputs: the job's outputs the fault changes, given what the job starts with
// (`leftover_in`, from the job before it in the run), the fault-free sums of the job's actual inputs
// (`clean(m, n)`, modular) and its products (`product(m, k, n)`).
void acc_fault_outputs(const job_span& job, const fault& f, const hw::array_config& cfg,
                       const std::vector<std::uint64_t>& leftover_in,
                       const std::function<std::uint64_t(std::size_t m, std::size_t n)>& clean,
                       const std::function<std::int64_t(std::size_t m, std::size_t k, std::size_t n)>& product,
                       std::vector<acc_output>& out);

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
