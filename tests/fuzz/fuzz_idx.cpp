// libFuzzer target: the IDX reader (sw/idx.h), images and labels, on the same bytes. A file it
// accepts must be exactly what its header says.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sw/idx.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> bytes(data, data + size);
  axsa::fuzz::expect_clean([&] {
    const axsa::sw::idx_images im = axsa::sw::parse_idx_images(bytes, "fuzz-images");
    if (im.count == 0 || im.rows == 0 || im.cols == 0 || im.pixels.size() != im.count * im.rows * im.cols ||
        im.pixels.size() + 16 != size) {
      axsa::fuzz::finding("accepted images disagree with their header");
    }
  });
  axsa::fuzz::expect_clean([&] {
    const axsa::sw::idx_labels lb = axsa::sw::parse_idx_labels(bytes, "fuzz-labels");
    if (lb.labels.empty() || lb.labels.size() + 8 != size) axsa::fuzz::finding("accepted labels disagree with their header");
    for (auto l : lb.labels) {
      if (l > 9) axsa::fuzz::finding("accepted a label above 9");
    }
  });
  return 0;
}
