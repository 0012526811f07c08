// RFC 4648 base64 of arbitrary bytes (OpenSSL EVP), for binary data kept in
// JSON files, such as header bytes that need not be UTF-8.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cordon::util {

std::string base64_encode(std::string_view bytes);

// Empty optional when `text` is not padded base64 without line breaks.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace cordon::util
