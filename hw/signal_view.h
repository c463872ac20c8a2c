// A named, read-only view of one wire or register of the cycle engine. It gives a link or a
// register a place in the SystemC object hierarchy (so tools can list and trace it) without
// an sc_signal in the hot loop: reading it asks the engine for the current value.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include <systemc>

namespace axsa::hw {

class signal_view : public sc_core::sc_object {
 public:
  using reader = std::function<std::int64_t()>;

  signal_view(const char* name, unsigned bits, reader read)
      : sc_core::sc_object(name), m_bits(bits), m_read(std::move(read)) {}

  const char* kind() const override { return "axsa_signal_view"; }
  unsigned bits() const { return m_bits; }
  std::int64_t read() const { return m_read(); }

 private:
  unsigned m_bits;
  reader m_read;
};

}  // namespace axsa::hw
