// libFuzzer target for mime::parse: any byte string must parse without a
// crash, a hang or unbounded memory, and every component must carry a name
// and valid UTF-8 text. Not part of the default build. Build and run:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc fuzz/mime_fuzz.cpp
//   src/mime/*.cpp $(pkg-config --cflags --libs gmime-3.0) -o mime_fuzz && ./mime_fuzz
//   -max_len=65536
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mime/charset.hpp"
#include "mime/mime.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cordon::mime::Limits limits;
  limits.max_depth = 12;  // small limits reach the limit paths quickly
  limits.max_parts = 64;
  limits.max_header_bytes = 4096;
  limits.max_decoded_bytes = 1 << 20;
  auto result =
      cordon::mime::parse(std::string_view(reinterpret_cast<const char*>(data), size), limits);
  if (!result.has_value()) return 0;
  for (const auto& component : result->components) {
    if (component.name.empty() || !cordon::mime::detail::is_valid_utf8(component.text)) {
      std::abort();
    }
  }
  return 0;
}
