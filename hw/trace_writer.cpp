#include "hw/trace_writer.h"

#include <sstream>
#include <stdexcept>

namespace axsa::hw {

namespace {

const char* stage_name(stage s) {
  switch (s) {
    case stage::preload: return "preload";
    case stage::compute: return "compute";
    case stage::drain: return "drain";
  }
  return "?";
}

// A JSON array of the region's values, row-major.
template <class Read>
void pe_array_json(std::ostream& os, const char* key, const trace_writer::region& reg, Read read) {
  os << ",\"" << key << "\":[";
  bool first = true;
  for (unsigned r = reg.r0; r <= reg.r1; ++r) {
    for (unsigned c = reg.c0; c <= reg.c1; ++c) {
      os << (first ? "" : ",") << read(r, c);
      first = false;
    }
  }
  os << "]";
}

}  // namespace

trace_writer::trace_writer(const std::string& path, const array_config& cfg, const dataflow& flow, region reg,
                           const std::vector<faults::fault>& fault_list, std::uint64_t first_cycle,
                           std::uint64_t last_cycle)
    : m_out(path), m_path(path), m_flow(flow), m_reg(reg), m_first(first_cycle), m_last(last_cycle) {
  if (!m_out) throw config_error("--trace: cannot create '" + path + "'");
  const gemm_shape& s = flow.shape();
  m_out << "{\"format\":\"axsa-trace-1\",\"rows\":" << cfg.rows << ",\"cols\":" << cfg.cols
        << ",\"bits\":" << cfg.data_bits << ",\"acc_bits\":" << cfg.acc_bits << ",\"m\":" << s.m << ",\"k\":" << s.k
        << ",\"n\":" << s.n << ",\"dataflow\":\"" << to_string(cfg.dataflow) << "\",\"engine\":\""
        << to_string(cfg.engine) << "\",\"job_cycles\":" << flow.cycles() << ",\"region\":{\"r0\":" << reg.r0
        << ",\"r1\":" << reg.r1 << ",\"c0\":" << reg.c0 << ",\"c1\":" << reg.c1 << "},\n\"faults\":[";
  for (std::size_t i = 0; i < fault_list.size(); ++i) {
    const faults::fault& f = fault_list[i];
    m_out << (i ? "," : "") << "{\"spec\":\"" << faults::describe(f) << "\",\"site\":\"" << faults::to_string(f.site)
          << "\",\"kind\":\"" << faults::to_string(f.kind) << "\",\"row\":" << f.row << ",\"col\":" << f.col
          << ",\"bit\":" << f.bit << ",\"first\":" << f.first_cycle << ",\"last\":";
    if (f.last_cycle == std::numeric_limits<std::uint64_t>::max()) m_out << "null";
    else m_out << f.last_cycle;
    m_out << "}";
  }
  m_out << "],\n\"cycles\":[";
}

void trace_writer::sample(const array_engine& e) {
  const std::uint64_t cycle = e.total_cycles();
  if (cycle < m_first || cycle > m_last) return;
  if (m_any && cycle <= m_last_written) return;
  std::ostringstream os;
  os << (m_any ? ",\n" : "\n") << "{\"cycle\":" << cycle;
  if (cycle < m_flow.cycles()) {
    const dataflow::position p = m_flow.locate(cycle);
    os << ",\"fold\":" << p.fold << ",\"stage\":\"" << stage_name(p.stage) << "\",\"t\":" << p.t;
  } else {
    os << ",\"fold\":null,\"stage\":\"done\",\"t\":null";
  }
  pe_array_json(os, "west", m_reg, [&](unsigned r, unsigned c) { return e.west_in(r, c); });
  pe_array_json(os, "north", m_reg, [&](unsigned r, unsigned c) { return e.north_in(r, c); });
  pe_array_json(os, "east", m_reg, [&](unsigned r, unsigned c) { return e.east_out(r, c); });
  pe_array_json(os, "south", m_reg, [&](unsigned r, unsigned c) { return e.south_out(r, c); });
  pe_array_json(os, "acc", m_reg, [&](unsigned r, unsigned c) { return e.acc(r, c); });
  pe_array_json(os, "mac_en", m_reg, [&](unsigned r, unsigned c) { return e.mac_enabled(r, c) ? 1 : 0; });
  os << ",\"drain\":[";
  for (unsigned c = m_reg.c0; c <= m_reg.c1; ++c) os << (c == m_reg.c0 ? "" : ",") << e.drain_out(c);
  os << "]}";
  m_out << os.str();
  if (!m_out) throw std::runtime_error("--trace: cannot write '" + m_path + "'");
  m_any = true;
  m_last_written = cycle;
}

void trace_writer::close() {
  if (m_closed) return;
  m_closed = true;
  m_out << "\n]}\n";
  m_out.close();
  if (!m_out) throw std::runtime_error("--trace: '" + m_path + "' is incomplete (write failed)");
}

trace_writer::~trace_writer() {
  try {
    close();
  } catch (...) {
    // Destruction during unwinding: the error that unwinds is the one to report.
  }
}

}  // namespace axsa::hw
