// SHA-256 of a file or bytes (OpenSSL libcrypto, EVP), for recording exactly which model a campaign ran.
#pragma once

#include <string>

namespace axsa::sw {

// Lower-case hex digest; throws config_error when the file cannot be read.
std::string sha256_file(const std::string& path);
std::string sha256_bytes(const void* data, std::size_t size);

}  // namespace axsa::sw
