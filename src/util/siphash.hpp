// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash, fast on
// short inputs. Used where a value must be recognisable later without being
// stored: whoever lacks the 128-bit key cannot compute or test the hashes.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace cordon::util {

using SipKey = std::array<std::uint8_t, 16>;

std::uint64_t siphash24(const SipKey& key, std::string_view data);

}  // namespace cordon::util
