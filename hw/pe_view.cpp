#include "hw/pe_view.h"

namespace axsa::hw {

pe_view::pe_view(const sc_core::sc_module_name& name, const array_core& core, unsigned row, unsigned col)
    : sc_core::sc_module(name),
      west("west", core.config().data_bits, [&core, row, col] { return core.west_in(row, col); }),
      north("north", core.config().data_bits, [&core, row, col] { return core.north_in(row, col); }),
      east("east", core.config().data_bits, [&core, row, col] { return core.east_out(row, col); }),
      south("south", core.config().data_bits, [&core, row, col] { return core.south_out(row, col); }),
      acc("acc", core.config().acc_bits, [&core, row, col] { return core.acc(row, col); }),
      mac_en("mac_en", 1, [&core, row, col] { return core.mac_enabled(row, col) ? 1 : 0; }),
      m_row(row),
      m_col(col) {}

}  // namespace axsa::hw
