#include "rtl/array/rtl_array.h"

namespace axsa::rtl {

const array_entry* find_array(unsigned rows, unsigned cols, unsigned data_bits, unsigned acc_bits,
                              const std::string& mult) {
  for (const auto& e : built_arrays()) {
    if (e.rows == rows && e.cols == cols && e.data_bits == data_bits && e.acc_bits == acc_bits && mult == e.mult) {
      return &e;
    }
  }
  return nullptr;
}

std::string built_array_list() {
  std::string out;
  for (const auto& e : built_arrays()) out += (out.empty() ? "" : ", ") + std::string(e.name);
  return out.empty() ? "none" : out;
}

}  // namespace axsa::rtl
