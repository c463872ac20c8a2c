// The wires of the structural array: what a PE port carries, the interface a port reads through,
// and the clocked register behind an output. A register keeps two values, the one visible during
// the current cycle (read()) and the one it takes on the next rising edge (write()); commit() is
// that edge. Every register of the array is written in the evaluate phase and committed in the
// commit phase, so the order in which PEs evaluate never matters. Ports (sc_port) bind to
// exports (sc_export) of the neighbour's registers at elaboration, as signals would, but a read
// is one virtual call and a cycle costs no kernel event (STYLE.md: costs).
#pragma once

#include <cstdint>

#include <systemc>

namespace axsa::hw {

// An operand on a systolic link: a W-bit value (sign-extended) and the valid bit that travels with it.
struct operand {
  std::int32_t value = 0;
  bool valid = false;
};

// Read side of a wire: what a port sees during the current cycle.
template <class T>
class read_if : public virtual sc_core::sc_interface {
 public:
  virtual T read() const = 0;
};

// A clocked register: read() is its output during this cycle, write() sets its input, commit() is the edge.
template <class T>
class clocked_reg final : public read_if<T> {
 public:
  T read() const override { return m_q; }
  void write(const T& d) { m_d = d; }
  void commit() { m_q = m_d; }
  // Reset and test hooks: set both the output and the input.
  void reset(const T& v = T{}) { m_q = m_d = v; }

 private:
  T m_q{};
  T m_d{};
};

// A source that never changes (the zeros entering the top of the drain chain).
template <class T>
class constant_source final : public read_if<T> {
 public:
  explicit constant_source(T v = T{}) : m_v(v) {}
  T read() const override { return m_v; }

 private:
  T m_v;
};

using operand_in = sc_core::sc_port<read_if<operand>>;
using operand_out = sc_core::sc_export<read_if<operand>>;
using acc_in = sc_core::sc_port<read_if<std::uint64_t>>;
using acc_out = sc_core::sc_export<read_if<std::uint64_t>>;
using flag_in = sc_core::sc_port<read_if<bool>>;
using flag_out = sc_core::sc_export<read_if<bool>>;

}  // namespace axsa::hw
