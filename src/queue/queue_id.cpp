// Queue id generation: time prefix for ordering, getrandom() suffix for
// uniqueness without shared state between threads or processes.
#include "queue/queue_id.hpp"

#include <sys/random.h>

#include <cstdint>

#include "util/ascii.hpp"

namespace cordon::queue {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::size_t kTimeChars = 11;  // 55 bits of microseconds: good until year 3111
constexpr std::size_t kRandomChars = 5;

void append_base32(std::string& out, std::uint64_t value, std::size_t chars) {
  for (std::size_t i = chars; i-- > 0;) out.push_back(kAlphabet[(value >> (5 * i)) & 31]);
}

std::uint64_t random_bits() {
  std::uint64_t bits = 0;
  // getrandom on a small buffer does not fail short once the pool is
  // initialised; on the impossible failure the time prefix plus the
  // O_EXCL/mkdir collision check in the spool still keep ids unique.
  if (::getrandom(&bits, sizeof bits, 0) != static_cast<ssize_t>(sizeof bits)) bits = 0;
  return bits;
}

}  // namespace

std::string make_queue_id(TimePoint now) {
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::string id;
  id.reserve(kTimeChars + kRandomChars);
  append_base32(id, static_cast<std::uint64_t>(micros), kTimeChars);
  append_base32(id, random_bits(), kRandomChars);
  return id;
}

bool is_valid_queue_id(std::string_view id) {
  if (id.size() != kTimeChars + kRandomChars) return false;
  for (char c : id)
    if (kAlphabet.find(c) == std::string_view::npos) return false;
  return true;
}

std::string find_queue_id_header(std::string_view header) {
  const std::string name = std::string(kQueueIdHeader) + ":";
  std::size_t at = 0;
  while (!util::istarts_with(header.substr(at), name)) {
    auto next = header.find('\n', at);
    if (next == std::string_view::npos) return {};
    at = next + 1;
  }
  auto start = at + name.size();
  auto end = header.find_first_of("\r\n", start);
  if (end == std::string_view::npos) return {};
  return std::string(util::trim(header.substr(start, end - start)));
}

}  // namespace cordon::queue
