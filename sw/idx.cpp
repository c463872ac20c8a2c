#include "sw/idx.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "hw/array_config.h"

namespace axsa::sw {
namespace {

constexpr std::uint32_t images_magic = 2051;  // 0x00000803: unsigned bytes, 3 dimensions
constexpr std::uint32_t labels_magic = 2049;  // 0x00000801: unsigned bytes, 1 dimension

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw config_error(path + ": " + what);
}

std::vector<std::uint8_t> read_whole_file(const std::string& path, const std::string& hint) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    fail(path, "cannot open IDX file (" +
                   std::string(std::filesystem::exists(path, ec) ? "not a regular file" : "no such file") + ")" +
                   hint);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open IDX file (" + std::string(std::strerror(errno)) + ")" + hint);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, "read error");
  return bytes;
}

std::uint32_t big_endian_u32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) |
         std::uint32_t{b[at + 3]};
}

std::string hex32(std::uint32_t v) {
  static const char digits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += digits[(v >> shift) & 0xf];
  return s;
}

// Checks the magic and that the header of `header_bytes` bytes is all there.
void check_header(const std::string& path, const std::vector<std::uint8_t>& bytes, std::uint32_t magic,
                  std::size_t header_bytes, const char* kind) {
  if (bytes.size() < 4) {
    fail(path, "truncated IDX " + std::string(kind) + " file: " + std::to_string(bytes.size()) +
                   " bytes, too short for the 4-byte magic number");
  }
  const std::uint32_t found = big_endian_u32(bytes, 0);
  if (found != magic) {
    fail(path, "not an IDX " + std::string(kind) + " file: magic number " + hex32(found) + " (" +
                   std::to_string(found) + "), expected " + hex32(magic) + " (" + std::to_string(magic) + ")");
  }
  if (bytes.size() < header_bytes) {
    fail(path, "truncated IDX " + std::string(kind) + " file: " + std::to_string(bytes.size()) +
                   " bytes, the header alone needs " + std::to_string(header_bytes));
  }
}

void check_payload_size(const std::string& path, std::size_t file_bytes, std::size_t header_bytes,
                        std::uint64_t payload, const std::string& described) {
  const std::uint64_t expected = header_bytes + payload;
  if (file_bytes < expected) {
    fail(path, "truncated: the header says " + described + " (" + std::to_string(expected) +
                   " bytes with the header) but the file has " + std::to_string(file_bytes) + " bytes");
  }
  if (file_bytes > expected) {
    fail(path, std::to_string(file_bytes - expected) + " trailing bytes after the " + described +
                   " the header announces (expected a file of exactly " + std::to_string(expected) + " bytes)");
  }
}

}  // namespace

idx_images parse_idx_images(const std::vector<std::uint8_t>& bytes, const std::string& path) {
  constexpr std::size_t header = 16;
  check_header(path, bytes, images_magic, header, "image");
  const std::uint32_t count = big_endian_u32(bytes, 4), rows = big_endian_u32(bytes, 8),
                      cols = big_endian_u32(bytes, 12);
  if (count == 0 || rows == 0 || cols == 0) {
    fail(path, "empty IDX image file: header says " + std::to_string(count) + " images of " +
                   std::to_string(rows) + "x" + std::to_string(cols) + ", expected every dimension > 0");
  }
  // 32-bit factors: the product fits in 96 bits, so check it against the file size stepwise.
  const std::uint64_t per_image = std::uint64_t{rows} * cols;
  const std::string described = std::to_string(count) + " images of " + std::to_string(rows) + "x" +
                                std::to_string(cols);
  if (per_image > (std::uint64_t{1} << 40) / count) {
    fail(path, "truncated: the header says " + described + ", far more than the file's " +
                   std::to_string(bytes.size()) + " bytes");
  }
  check_payload_size(path, bytes.size(), header, per_image * count, described);
  idx_images out;
  out.count = count;
  out.rows = rows;
  out.cols = cols;
  out.pixels.assign(bytes.begin() + header, bytes.end());
  return out;
}

idx_labels parse_idx_labels(const std::vector<std::uint8_t>& bytes, const std::string& path) {
  constexpr std::size_t header = 8;
  check_header(path, bytes, labels_magic, header, "label");
  const std::uint32_t count = big_endian_u32(bytes, 4);
  if (count == 0) fail(path, "empty IDX label file: header says 0 labels, expected > 0");
  check_payload_size(path, bytes.size(), header, count, std::to_string(count) + " labels");
  idx_labels out;
  out.labels.assign(bytes.begin() + header, bytes.end());
  for (std::size_t i = 0; i < out.labels.size(); ++i) {
    if (out.labels[i] > 9) {
      fail(path, "label " + std::to_string(out.labels[i]) + " at index " + std::to_string(i) +
                     " is out of range (expected 0..9)");
    }
  }
  return out;
}

namespace {

idx_images read_images(const std::string& path, const std::string& hint) {
  return parse_idx_images(read_whole_file(path, hint), path);
}

idx_labels read_labels(const std::string& path, const std::string& hint) {
  return parse_idx_labels(read_whole_file(path, hint), path);
}

}  // namespace

idx_images read_idx_images(const std::string& path) { return read_images(path, ""); }

idx_labels read_idx_labels(const std::string& path) { return read_labels(path, ""); }

dataset load_mnist(const std::string& dir, const std::string& split) {
  if (split != "train" && split != "t10k") {
    throw config_error(dir + ": unknown MNIST split '" + split + "' (expected \"train\" or \"t10k\")");
  }
  const std::string base = dir.empty() ? split : dir + "/" + split;
  const std::string images_path = base + "-images-idx3-ubyte", labels_path = base + "-labels-idx1-ubyte";
  const std::string hint = "; run scripts/fetch_mnist.sh to download MNIST";
  dataset d{read_images(images_path, hint), read_labels(labels_path, hint)};
  if (d.images.count != d.labels.labels.size()) {
    throw config_error(labels_path + ": has " + std::to_string(d.labels.labels.size()) + " labels but " +
                       images_path + " has " + std::to_string(d.images.count) +
                       " images (expected the same count)");
  }
  return d;
}

}  // namespace axsa::sw
