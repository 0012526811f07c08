// SHA-256 (OpenSSL EVP), incrementally or of one buffer, as lower-case hex:
// the checksum the spool records for every queued content file.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace cordon::util {

class Sha256 {
 public:
  Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  ~Sha256();

  void update(std::string_view data);
  // The digest of everything fed so far (64 hex digits); the object starts
  // over afterwards.
  std::string hex_digest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

std::string sha256_hex(std::string_view data);

}  // namespace cordon::util
