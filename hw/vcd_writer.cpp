#include "hw/vcd_writer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "hw/array_config.h"

namespace axsa::hw {


namespace {

std::vector<std::string> split_name(const std::string& name) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = name.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(name.substr(start, dot - start));
  }
  parts.push_back(name.substr(start));
  return parts;
}

}  // namespace

vcd_writer::vcd_writer(const std::string& path, std::vector<const signal_view*> views, double clock_period_ns,
                       std::uint64_t first_cycle, std::uint64_t last_cycle)
    : m_out(path),
      m_path(path),
      m_views(std::move(views)),
      m_period_ps(static_cast<std::uint64_t>(std::llround(clock_period_ns * 1000.0))),
      m_first(first_cycle),
      m_last_cycle(last_cycle) {
  if (!m_out) throw config_error("cannot write VCD file '" + path + "'");
  if (first_cycle > last_cycle) throw config_error("VCD window starts after it ends");
  if (m_period_ps == 0) m_period_ps = 1;
  m_ids.reserve(m_views.size());
  for (std::size_t i = 0; i < m_views.size(); ++i) m_ids.push_back(vcd::identifier(i));
  m_last.assign(m_views.size(), 0);
  write_header();
}

vcd_writer::~vcd_writer() {
  if (m_out.is_open()) m_out.close();  // errors were the caller's to collect through close()
}

void vcd_writer::close() {
  if (!m_out.is_open()) return;
  m_out.close();  // the last buffered values are written only now
  if (!m_out) throw std::runtime_error("error writing VCD file '" + m_path + "'");
}

void vcd_writer::write_header() {
  m_out << "$date axsa $end\n$version axsa systolic array model $end\n$timescale 1 ps $end\n";
  // Group the views by scope path, keeping the hierarchy's order of first appearance.
  std::vector<std::size_t> order(m_views.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<std::vector<std::string>> paths;
  for (const signal_view* v : m_views) paths.push_back(split_name(v->name()));
  std::stable_sort(order.begin(), order.end(), [&paths](std::size_t a, std::size_t b) {
    const auto& pa = paths[a];
    const auto& pb = paths[b];
    return std::lexicographical_compare(pa.begin(), pa.end() - 1, pb.begin(), pb.end() - 1);
  });
  std::vector<std::string> open;
  for (std::size_t idx : order) {
    const auto& path = paths[idx];
    const std::size_t depth = path.size() - 1;
    std::size_t common = 0;
    while (common < open.size() && common < depth && open[common] == path[common]) ++common;
    while (open.size() > common) {
      m_out << "$upscope $end\n";
      open.pop_back();
    }
    for (std::size_t d = common; d < depth; ++d) {
      m_out << "$scope module " << path[d] << " $end\n";
      open.push_back(path[d]);
    }
    m_out << "$var wire " << m_views[idx]->bits() << ' ' << m_ids[idx] << ' ' << path.back() << " $end\n";
  }
  while (!open.empty()) {
    m_out << "$upscope $end\n";
    open.pop_back();
  }
  m_out << "$enddefinitions $end\n";
}

void vcd_writer::sample(std::uint64_t cycle) {
  if (!m_out.is_open() || cycle < m_first || cycle > m_last_cycle) return;
  if (!m_dumped) {
    m_out << '#' << cycle * m_period_ps << "\n$dumpvars\n";
    for (std::size_t i = 0; i < m_views.size(); ++i) {
      m_last[i] = m_views[i]->read();
      vcd::write_value(m_out, m_last[i], m_views[i]->bits(), m_ids[i]);
    }
    m_out << "$end\n";
    m_dumped = true;
    m_last_time_cycle = cycle;
    return;
  }
  bool stamped = cycle == m_last_time_cycle;
  for (std::size_t i = 0; i < m_views.size(); ++i) {
    const std::int64_t v = m_views[i]->read();
    if (v == m_last[i]) continue;
    if (!stamped) {
      m_out << '#' << cycle * m_period_ps << '\n';
      stamped = true;
    }
    m_last[i] = v;
    vcd::write_value(m_out, v, m_views[i]->bits(), m_ids[i]);
  }
  m_last_time_cycle = cycle;
  if (!m_out) throw std::runtime_error("error writing VCD file '" + m_path + "'");
}

}  // namespace axsa::hw
