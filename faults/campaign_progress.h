// The progress line of a campaign run on stderr (rate and ETA), shared by the single-process runner
// and rank 0 of an MPI run: rewritten in place on a terminal, a line every 10 s otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>

#include <unistd.h>

namespace axsa::faults {

class progress_line {
 public:
  progress_line(std::uint64_t total, std::uint64_t already) : m_total(total), m_done(already), m_start_done(already) {}
  void update(std::uint64_t done, bool force = false) {
    m_done = done;
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - m_last).count();
    if (!force && since < (m_tty ? 0.5 : 10.0)) return;
    m_last = now;
    const double elapsed = std::chrono::duration<double>(now - m_t0).count();
    const double rate = elapsed > 0 ? static_cast<double>(m_done - m_start_done) / elapsed : 0;
    const double eta = rate > 0 ? static_cast<double>(m_total - m_done) / rate : 0;
    char buf[160];
    std::snprintf(buf, sizeof buf, "campaign: %llu/%llu faults (%.1f %%), %.1f faults/s, ETA %.0f s",
                  static_cast<unsigned long long>(m_done), static_cast<unsigned long long>(m_total),
                  m_total ? 100.0 * static_cast<double>(m_done) / static_cast<double>(m_total) : 100.0, rate, eta);
    std::cerr << (m_tty ? "\r" : "") << buf << (m_tty ? "   " : "\n") << std::flush;
  }
  void finish() {
    update(m_done, true);
    if (m_tty) std::cerr << "\n";
  }
 private:
  std::uint64_t m_total, m_done, m_start_done;
  bool m_tty = isatty(STDERR_FILENO) != 0;
  std::chrono::steady_clock::time_point m_t0 = std::chrono::steady_clock::now(), m_last = std::chrono::steady_clock::now() - std::chrono::hours(1);
};

}  // namespace axsa::faults
