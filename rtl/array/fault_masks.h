// Faults as the RTL array takes them: per PE and site, three masks on the value the site carries
// (W bits on an operand, A bits on the accumulator's input), v' = ((v & ~clear) | set) ^ flip
// (rtl/array/axsa_pe.v). Stuck-at-0 clears a bit,
// stuck-at-1 sets it, a bit-flip inverts it; composing the faults active on one PE and site in
// list order gives one mask triple, because each bit only ever becomes itself, 0, 1 or its inverse.
#pragma once

#include <cstdint>
#include <vector>

#include "hw/fault.h"

namespace axsa::rtl {

struct bit_masks {
  std::uint64_t clear = 0, set = 0, flip = 0;

  // The corrupted form of a data_bits-wide value (given sign-extended), sign-extended again.
  std::int32_t apply(std::int32_t value, unsigned data_bits) const;
  bool identity() const { return clear == 0 && set == 0 && flip == 0; }
  bool operator==(const bit_masks& o) const { return clear == o.clear && set == o.set && flip == o.flip; }
  bool operator!=(const bit_masks& o) const { return !(*this == o); }
};

// m followed by f.
void compose(bit_masks& m, const faults::fault& f);

// The masks of every PE that some fault names, cycle by cycle.
class fault_mask_plan {
 public:
  fault_mask_plan(std::vector<faults::fault> list, unsigned rows, unsigned cols);

  struct pe_masks {
    unsigned row, col;
    bit_masks site[faults::fault_site_count];  // indexed by fault_site
    const bit_masks& of(faults::fault_site s) const { return site[static_cast<unsigned>(s)]; }
  };
  // The PEs the list names (each once), with the masks of the faults active at `cycle`.
  const std::vector<pe_masks>& at(std::uint64_t cycle);

 private:
  std::vector<faults::fault> m_faults;
  std::vector<pe_masks> m_pes;
  std::vector<std::vector<std::size_t>> m_faults_of_pe;  // indices into m_faults, list order
};

}  // namespace axsa::rtl
