#include "sw/sha256.h"

#include <array>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>

#include "hw/array_config.h"

namespace axsa::sw {
namespace {

// OpenSSL's EVP digest, fed in chunks so a large model is never held twice.
class sha256_digest {
 public:
  sha256_digest() : m_ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    if (!m_ctx || EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) != 1) throw std::runtime_error("OpenSSL: SHA-256 unavailable");
  }
  void update(const void* data, std::size_t size) {
    if (EVP_DigestUpdate(m_ctx.get(), data, size) != 1) throw std::runtime_error("OpenSSL: SHA-256 update failed");
  }
  std::string hex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned length = 0;
    if (EVP_DigestFinal_ex(m_ctx.get(), md.data(), &length) != 1) throw std::runtime_error("OpenSSL: SHA-256 final failed");
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < length; ++i) {
      out += digits[md[i] >> 4];
      out += digits[md[i] & 15];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> m_ctx;
};

}  // namespace

std::string sha256_bytes(const void* data, std::size_t size) {
  sha256_digest d;
  d.update(data, size);
  return d.hex();
}

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(path + ": cannot read the file");
  sha256_digest d;
  std::array<char, 1 << 16> chunk;
  while (in) {
    in.read(chunk.data(), chunk.size());
    d.update(chunk.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw config_error(path + ": cannot read the file");
  return d.hex();
}

}  // namespace axsa::sw
