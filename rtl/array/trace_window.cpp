#include "rtl/array/trace_window.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>

#include "hw/array_config.h"
#include "hw/vcd_format.h"

namespace axsa::rtl {

namespace {

struct traced {
  std::string id;
  unsigned bits;
  std::function<std::int64_t(const array_snapshot&)> read;
};

}  // namespace

void write_trace_window(const std::string& path, const std::vector<const array_snapshot*>& window,
                        const trace_shape& shape, std::uint64_t mismatch_cycle, const std::string& title) {
  std::ofstream out(path);
  if (!out) throw config_error("cannot write VCD file '" + path + "'");
  const bool rtl_side = !window.empty() && !window.front()->east_valid.empty();
  const auto period_ps = static_cast<std::uint64_t>(std::max(1.0, std::round(shape.clock_period_ns * 1000.0)));

  std::vector<traced> vars;
  auto add = [&](std::ostream& decl, const std::string& name, unsigned bits,
                 std::function<std::int64_t(const array_snapshot&)> read) {
    vars.push_back({hw::vcd::identifier(vars.size()), bits, std::move(read)});
    decl << "$var wire " << bits << ' ' << vars.back().id << ' ' << name << " $end\n";
  };

  out << "$date axsa $end\n$version axsa coverify: " << title << " $end\n$timescale 1 ps $end\n";
  out << "$scope module top $end\n$scope module lockstep $end\n";
  add(out, "mismatch", 1, [mismatch_cycle](const array_snapshot& s) { return s.cycle == mismatch_cycle ? 1 : 0; });
  out << "$upscope $end\n$scope module array $end\n";
  out << "$scope module west_feeder $end\n";
  for (unsigned r = 0; r < shape.rows; ++r) {
    add(out, "row_" + std::to_string(r), shape.data_bits, [r](const array_snapshot& s) { return s.west_in[r]; });
  }
  out << "$upscope $end\n$scope module north_feeder $end\n";
  for (unsigned c = 0; c < shape.cols; ++c) {
    add(out, "col_" + std::to_string(c), shape.data_bits, [c](const array_snapshot& s) { return s.north_in[c]; });
  }
  out << "$upscope $end\n";
  for (unsigned r = 0; r < shape.rows; ++r) {
    for (unsigned c = 0; c < shape.cols; ++c) {
      const std::size_t i = static_cast<std::size_t>(r) * shape.cols + c;
      out << "$scope module pe_" << r << '_' << c << " $end\n";
      add(out, "east", shape.data_bits, [i](const array_snapshot& s) { return s.east[i]; });
      add(out, "south", shape.data_bits, [i](const array_snapshot& s) { return s.south[i]; });
      add(out, "acc", shape.acc_bits, [i](const array_snapshot& s) { return s.acc[i]; });
      add(out, "mac_en", 1, [i](const array_snapshot& s) { return s.mac_en[i]; });
      if (rtl_side) {
        add(out, "east_valid", 1, [i](const array_snapshot& s) { return s.east_valid[i]; });
        add(out, "south_valid", 1, [i](const array_snapshot& s) { return s.south_valid[i]; });
      }
      out << "$upscope $end\n";
    }
  }
  out << "$scope module drain $end\n";
  for (unsigned c = 0; c < shape.cols; ++c) {
    add(out, "col_" + std::to_string(c), shape.acc_bits, [c](const array_snapshot& s) { return s.drain_out[c]; });
  }
  out << "$upscope $end\n$upscope $end\n$upscope $end\n$enddefinitions $end\n";

  std::vector<std::int64_t> last(vars.size(), 0);
  bool first = true;
  for (const array_snapshot* s : window) {
    out << '#' << s->cycle * period_ps << '\n';
    if (first) out << "$dumpvars\n";
    for (std::size_t v = 0; v < vars.size(); ++v) {
      const std::int64_t value = vars[v].read(*s);
      if (!first && value == last[v]) continue;
      last[v] = value;
      hw::vcd::write_value(out, value, vars[v].bits, vars[v].id);
    }
    if (first) out << "$end\n";
    first = false;
  }
  if (!window.empty()) out << '#' << (window.back()->cycle + 1) * period_ps << '\n';
  if (!out) throw config_error("error writing VCD file '" + path + "'");
}

}  // namespace axsa::rtl
