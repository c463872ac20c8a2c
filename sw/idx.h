// Reader for the IDX files of MNIST-style data sets (big-endian header, then raw unsigned bytes).
// Every check a corrupt or wrong file can fail (missing, truncated, wrong magic, trailing bytes,
// zero dimensions, labels above 9, image and label counts that disagree) is a config_error naming
// the file and what was expected; a file that loads is exactly what its header says.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace axsa::sw {

struct idx_images {
  std::size_t count = 0;
  unsigned rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;  // count x rows x cols, row-major, 0..255

  const std::uint8_t* image(std::size_t i) const { return pixels.data() + i * rows * cols; }
};

struct idx_labels {
  std::vector<std::uint8_t> labels;  // 0..9
};

// IDX3 unsigned-byte images: magic 2051 (0x00000803), count, rows, cols.
idx_images read_idx_images(const std::string& path);
// IDX1 unsigned-byte labels: magic 2049 (0x00000801), count; every label 0..9.
idx_labels read_idx_labels(const std::string& path);
// The same checks on a file's bytes already in memory (the readers above, and the fuzzer); `path`
// names the source in messages.
idx_images parse_idx_images(const std::vector<std::uint8_t>& bytes, const std::string& path);
idx_labels parse_idx_labels(const std::vector<std::uint8_t>& bytes, const std::string& path);

struct dataset {
  idx_images images;
  idx_labels labels;
};

// Loads DIR/SPLIT-images-idx3-ubyte and DIR/SPLIT-labels-idx1-ubyte; split is "train" or "t10k".
// Throws config_error if the split is unknown, a file is bad, or the two counts disagree.
dataset load_mnist(const std::string& dir, const std::string& split);

}  // namespace axsa::sw
