// Random values from OpenSSL's CSPRNG (see random.hpp).
#include "util/random.hpp"

#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

namespace cordon::util {

std::vector<unsigned char> random_bytes(std::size_t count) {
  std::vector<unsigned char> out(count);
  if (count > 0 && RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
  return out;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

std::string random_hex(std::size_t bytes) {
  auto raw = random_bytes(bytes);
  return to_hex(raw.data(), raw.size());
}

std::uint64_t random_u64() {
  auto raw = random_bytes(sizeof(std::uint64_t));
  std::uint64_t v = 0;
  std::memcpy(&v, raw.data(), sizeof v);
  return v;
}

}  // namespace cordon::util
