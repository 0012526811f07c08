// Cryptographically secure random values from OpenSSL's CSPRNG: session
// tokens, generated passwords, deployment ids and keys, unique file names.
// RAND_bytes fails only when the generator cannot be seeded; handing out a
// predictable token would be worse than stopping, so that aborts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cordon::util {

std::vector<unsigned char> random_bytes(std::size_t count);
// 2 * `bytes` lower-case hex digits.
std::string random_hex(std::size_t bytes);
std::uint64_t random_u64();

// Lower-case hex of `size` bytes.
std::string to_hex(const unsigned char* data, std::size_t size);

}  // namespace cordon::util
