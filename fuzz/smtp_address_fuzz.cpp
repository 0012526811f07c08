// libFuzzer target for smtp::parse_mailbox, the relay decision's parser:
// any bytes must parse without a crash or a hang; a parsed mailbox holds no
// control character, a domain and a local part within RFC 5321's limits;
// its written local part decodes back to the same local part; and routing
// is reported exactly when the decoded local part holds "%", "!" or "@" or
// a source route was given. The first byte selects UTF-8 permission.
// Not part of the default build. Build and run (fuzz/run.sh does both):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc
//   fuzz/smtp_address_fuzz.cpp src/smtp/address.cpp src/util/ascii.cpp
//   -o smtp_address_fuzz && ./smtp_address_fuzz -max_len=512 fuzz/corpus/smtp_address
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "smtp/address.hpp"

namespace {

bool has_control(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 32 || u == 127) return true;
  }
  return false;
}

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cordon::smtp;
  if (size == 0) return 0;
  const bool utf8 = (data[0] & 1) != 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto parsed = parse_mailbox(text, utf8);
  if (!parsed) {
    check(!to_string(parsed.error()).empty());
    return 0;
  }
  const Mailbox& m = *parsed;
  check(!has_control(m.local_part) && !has_control(m.local_part_written) && !has_control(m.domain));
  check(!m.local_part_written.empty() && m.local_part_written.size() <= 64);
  check(!m.domain.empty() && m.domain.size() <= 255);
  check(m.quoted == (m.local_part_written.front() == '"'));
  if (!m.quoted) {
    check(m.local_part == m.local_part_written);
    check(m.local_part.find_first_of("@\"\\ ") == std::string::npos);
  }
  for (const auto& hop : m.source_route) check(is_valid_domain(hop, false));

  // The mailbox as written (without its route) parses to the same parts.
  auto again = parse_mailbox(m.local_part_written + "@" + m.domain, utf8);
  check(again.has_value());
  check(again->local_part == m.local_part && again->domain == m.domain &&
        again->quoted == m.quoted && again->source_route.empty());

  const bool routed =
      m.local_part.find_first_of("%!@") != std::string::npos || !m.source_route.empty();
  check(has_routing(m) == routed);
  return 0;
}
