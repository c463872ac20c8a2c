// The controller's timing, computed from the GEMM alone by asking the dataflow descriptor
// (hw/dataflow.h): for every cycle of a job, what the west and north edges of the array carry (the
// skew), whether the array drains, and which output row leaves it. The lockstep drives the RTL with
// this schedule; it never looks at the SystemC model's feeder registers, so a timing bug in either
// shows up as a mismatch.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "hw/array_core.h"
#include "hw/dataflow.h"

namespace axsa::rtl {

class feed_schedule {
 public:
  // act (M x K) and weight (K x N) must outlive the schedule.
  feed_schedule(unsigned rows, unsigned cols, const hw::gemm_shape& shape, const std::int16_t* act,
                const std::int16_t* weight);

  std::uint64_t folds() const { return m_flow.folds(); }
  const hw::dataflow& flow() const { return m_flow; }
  // Cycles of the whole job (the descriptor's).
  std::uint64_t cycles() const { return m_flow.cycles(); }

  // The edge inputs of one cycle (zero and invalid from cycles() on: the array is idle).
  struct edges {
    std::vector<std::int32_t> west, north;
    std::vector<std::uint8_t> west_valid, north_valid;
    bool drain = false;
  };
  void inputs(std::uint64_t cycle, edges& out) const;
  // The same for a cycle in which the controller's registers say fold p.fold (below folds()), stage
  // p.stage, cycle p.t of that stage: what the feeders read for those addresses (the RTL
  // controller's run, where a control fault may move them off the schedule). drain is left false:
  // the controller drives it.
  void inputs_at(const hw::dataflow::position& p, edges& out) const;

  // During a drain cycle whose bottom row holds outputs: where they go (m, first n, how many).
  struct drained_row {
    std::size_t m, n0;
    unsigned count;
  };
  std::optional<drained_row> drained(std::uint64_t cycle) const;
  // The same for a drain cycle at the controller's position p (p.fold below folds()).
  std::optional<drained_row> drained_at(const hw::dataflow::position& p) const;

 private:
  hw::dataflow m_flow;
  const std::int16_t* m_act;
  const std::int16_t* m_weight;
};

}  // namespace axsa::rtl
