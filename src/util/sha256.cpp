// SHA-256 through OpenSSL's EVP interface (see sha256.hpp).
#include "util/sha256.hpp"

#include <openssl/evp.h>

#include <cstdlib>

#include "util/random.hpp"

namespace cordon::util {

struct Sha256::Context {
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx{EVP_MD_CTX_new()};

  // EVP fails only when out of memory or when SHA-256 is unavailable; a
  // checksum that silently covers nothing would be worse than stopping.
  void init() {
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) std::abort();
  }
};

Sha256::Sha256() : context_(std::make_unique<Context>()) {
  context_->init();
}
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
Sha256::~Sha256() = default;

void Sha256::update(std::string_view data) {
  if (!data.empty() && EVP_DigestUpdate(context_->ctx.get(), data.data(), data.size()) != 1)
    std::abort();
}

std::string Sha256::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_->ctx.get(), digest, &length) != 1) std::abort();
  context_->init();
  return to_hex(digest, length);
}

std::string sha256_hex(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.hex_digest();
}

}  // namespace cordon::util
