#include "hw/array_config.h"

#include <cmath>
#include <iomanip>
#include <sstream>

namespace axsa::hw {

namespace {
void check_range(const char* what, unsigned long long value, unsigned long long lo, unsigned long long hi) {
  if (value < lo || value > hi) {
    throw config_error(std::string(what) + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) +
                       " (got " + std::to_string(value) + ")");
  }
}
}  // namespace

void array_config::validate() const {
  check_range("rows", rows, 1, max_dim);
  check_range("cols", cols, 1, max_dim);
  check_range("data bits", data_bits, 2, 16);
  check_range("accumulator bits", acc_bits, 2, 64);
  check_range("weight register stages per PE", weight_hop, 1, 4);
  if (dataflow == dataflow_kind::weight_stationary && weight_hop != 1) {
    throw config_error("the weight-stationary dataflow holds its weights: weight register stages per PE must be 1");
  }
  // SystemC's default time resolution is 1 ps: a shorter or fractional period would be rounded, and
  // above 1 ms the simulated time of a long run leaves the kernel's 64-bit range of picoseconds.
  const double ps = clock_period_ns * 1000.0;
  if (!std::isfinite(clock_period_ns) || clock_period_ns < 0.001 || clock_period_ns > 1e6 ||
      std::fabs(ps - std::round(ps)) > 1e-6 * ps) {
    std::ostringstream got;
    got << std::setprecision(10) << clock_period_ns;
    throw config_error("clock period must be 0.001..1000000 ns in whole picoseconds, the kernel's time resolution (got " +
                       got.str() + ")");
  }
}

const char* to_string(engine_kind e) { return e == engine_kind::fast ? "fast" : "structural"; }

engine_kind parse_engine(const std::string& text) {
  if (text == "fast") return engine_kind::fast;
  if (text == "structural") return engine_kind::structural;
  throw config_error("unknown engine '" + text + "' (expected fast or structural)");
}

const char* to_string(operand_align a) { return a == operand_align::low ? "low" : "high"; }

operand_align parse_operand_align(const std::string& text) {
  if (text == "low") return operand_align::low;
  if (text == "high") return operand_align::high;
  throw config_error("unknown operand alignment '" + text + "' (expected low or high)");
}

const char* to_string(dataflow_kind d) { return d == dataflow_kind::output_stationary ? "os" : "ws"; }

dataflow_kind parse_dataflow(const std::string& text) {
  if (text == "os") return dataflow_kind::output_stationary;
  if (text == "ws") return dataflow_kind::weight_stationary;
  throw config_error("unknown dataflow '" + text + "' (expected os or ws)");
}

void gemm_shape::validate() const {
  // Upper bounds keep every index and every operand buffer addressable; they are far above any CNN layer.
  constexpr unsigned long long max_extent = 1ull << 24;
  check_range("M", m, 1, max_extent);
  check_range("K", k, 1, max_extent);
  check_range("N", n, 1, max_extent);
  if (static_cast<unsigned long long>(m) * k > (1ull << 31) || static_cast<unsigned long long>(k) * n > (1ull << 31) ||
      static_cast<unsigned long long>(m) * n > (1ull << 31)) {
    throw config_error("GEMM operands too large: M*K, K*N and M*N must each be at most 2^31 elements");
  }
}

}  // namespace axsa::hw
