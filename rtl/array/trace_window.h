// A VCD of a window of consecutive array snapshots (rtl/array/rtl_array.h), for looking at a
// lockstep mismatch in a waveform viewer. The hierarchy follows hw::systolic_array's views
// (top.array.pe_<r>_<c>.{east,south,acc,mac_en}, west_feeder.row_<i>, north_feeder.col_<j>,
// drain.col_<j>), so the model's and the RTL's files line up signal for signal; the RTL's file
// adds east_valid/south_valid. top.lockstep.mismatch is 1 during the cycle of the mismatch.
// As in hw::vcd_writer, the value at time cycle * period is the state during that cycle.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rtl/array/rtl_array.h"

namespace axsa::rtl {

struct trace_shape {
  unsigned rows, cols, data_bits, acc_bits;
  double clock_period_ns = 1;
};

// Throws config_error when the file cannot be written. `window` holds consecutive cycles.
void write_trace_window(const std::string& path, const std::vector<const array_snapshot*>& window,
                        const trace_shape& shape, std::uint64_t mismatch_cycle, const std::string& title);

}  // namespace axsa::rtl
