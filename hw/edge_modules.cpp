#include "hw/edge_modules.h"

#include <string>

namespace axsa::hw {

feeder::feeder(const sc_core::sc_module_name& name, const char* prefix, unsigned count)
    : sc_core::sc_module(name),
      out(prefix, count),
      m_regs(new clocked_reg<operand>[count]) {
  for (unsigned i = 0; i < count; ++i) out[i].bind(m_regs[i]);
}

}  // namespace axsa::hw
