// The milter wire format (see codec.hpp).
#include "milter/codec.hpp"

namespace cordon::milter {
namespace {

void put32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

std::uint32_t get32(std::string_view s) {
  auto b = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[i]));
  };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

// Reads NUL-terminated strings off the front of a view.
class Reader {
 public:
  explicit Reader(std::string_view data) : rest_(data) {}
  Result<std::string, PayloadError> string() {
    auto nul = rest_.find('\0');
    if (nul == std::string_view::npos) return fail(PayloadError::unterminated);
    std::string out(rest_.substr(0, nul));
    rest_.remove_prefix(nul + 1);
    return out;
  }
  bool empty() const { return rest_.empty(); }
  std::string_view rest() const { return rest_; }
  void skip(std::size_t n) { rest_.remove_prefix(n); }

 private:
  std::string_view rest_;
};

void put_string(std::string& out, std::string_view s) {
  // A NUL inside would end the string early on the other side.
  for (char c : s)
    if (c != '\0') out.push_back(c);
  out.push_back('\0');
}

}  // namespace

std::string encode(char code, std::string_view data) {
  std::string out;
  out.reserve(5 + data.size());
  put32(out, static_cast<std::uint32_t>(data.size() + 1));
  out.push_back(code);
  out.append(data);
  return out;
}

std::string_view describe(FrameError error) {
  switch (error) {
    case FrameError::empty:
      return "a frame without a command byte";
    case FrameError::oversized:
      return "a frame longer than milter.max_frame_bytes";
  }
  return "?";
}

std::string_view describe(PayloadError error) {
  switch (error) {
    case PayloadError::truncated:
      return "truncated data";
    case PayloadError::unterminated:
      return "a string without its terminating NUL";
  }
  return "?";
}

Result<std::optional<Frame>, FrameError> FrameDecoder::next() {
  std::string_view pending(buffer_);
  pending.remove_prefix(consumed_);
  if (pending.size() < 4) return std::optional<Frame>();
  const std::uint32_t length = get32(pending);
  if (length == 0) return fail(FrameError::empty);
  if (length > max_) {
    refused_ = length;
    return fail(FrameError::oversized);
  }
  if (pending.size() - 4 < length) return std::optional<Frame>();
  Frame frame{pending[4], std::string(pending.substr(5, length - 1))};
  consumed_ += 4 + length;
  // Compact once the consumed prefix dominates, so the buffer stays small.
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 64 * 1024 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return std::optional<Frame>(std::move(frame));
}

Result<OptionNegotiation, PayloadError> decode_optneg(std::string_view data) {
  if (data.size() < 12) return fail(PayloadError::truncated);
  return OptionNegotiation{get32(data), get32(data.substr(4)), get32(data.substr(8))};
}

std::string encode_optneg(const OptionNegotiation& n) {
  std::string data;
  put32(data, n.version);
  put32(data, n.actions);
  put32(data, n.protocol);
  return encode(cmd::optneg, data);
}

Result<Macros, PayloadError> decode_macros(std::string_view data) {
  Macros out;
  if (data.empty()) return out;
  out.for_command = data[0];
  Reader r(data.substr(1));
  while (!r.empty()) {
    auto name = r.string();
    if (!name) return fail(name.error());
    auto value = r.string();
    if (!value) return fail(value.error());
    out.values.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

Result<Connect, PayloadError> decode_connect(std::string_view data) {
  Reader r(data);
  Connect out;
  auto host = r.string();
  if (!host) return fail(host.error());
  out.hostname = std::move(*host);
  if (r.empty()) return fail(PayloadError::truncated);
  out.family = r.rest()[0];
  r.skip(1);
  if (out.family == 'U') return out;
  if (r.rest().size() < 2) return fail(PayloadError::truncated);
  out.port = static_cast<std::uint16_t>((static_cast<unsigned char>(r.rest()[0]) << 8) |
                                        static_cast<unsigned char>(r.rest()[1]));
  r.skip(2);
  auto address = r.string();
  if (!address) return fail(address.error());
  out.address = std::move(*address);
  return out;
}

Result<std::vector<std::string>, PayloadError> decode_strings(std::string_view data) {
  Reader r(data);
  std::vector<std::string> out;
  while (!r.empty()) {
    auto s = r.string();
    if (!s) return fail(s.error());
    out.push_back(std::move(*s));
  }
  return out;
}

Result<std::pair<std::string, std::string>, PayloadError> decode_header(std::string_view data) {
  Reader r(data);
  auto name = r.string();
  if (!name) return fail(name.error());
  auto value = r.string();
  if (!value) return fail(value.error());
  return std::pair{std::move(*name), std::move(*value)};
}

std::string reply_code_text(std::string_view smtp_reply) {
  while (smtp_reply.size() >= 2 && smtp_reply.substr(smtp_reply.size() - 2) == "\r\n")
    smtp_reply.remove_suffix(2);
  std::string out;
  out.reserve(smtp_reply.size() + 8);
  for (char c : smtp_reply) {
    if (c == '\0') continue;
    if (c == '%') out.push_back('%');
    out.push_back(c);
  }
  return out;
}

std::string encode_reply_code(std::string_view smtp_reply) {
  std::string data;
  put_string(data, reply_code_text(smtp_reply));
  return encode(reply::reply_code, data);
}

std::string encode_add_header(std::string_view name, std::string_view value) {
  std::string data;
  put_string(data, name);
  put_string(data, value);
  return encode(reply::add_header, data);
}

namespace {
std::string indexed_header(char code, std::uint32_t index, std::string_view name,
                           std::string_view value) {
  std::string data;
  put32(data, index);
  put_string(data, name);
  put_string(data, value);
  return encode(code, data);
}
}  // namespace

std::string encode_insert_header(std::uint32_t index, std::string_view name,
                                 std::string_view value) {
  return indexed_header(reply::ins_header, index, name, value);
}

std::string encode_change_header(std::uint32_t index, std::string_view name,
                                 std::string_view value) {
  return indexed_header(reply::chg_header, index, name, value);
}

std::string encode_add_recipient(std::string_view address) {
  std::string data;
  put_string(data, address);
  return encode(reply::add_rcpt, data);
}

std::string encode_delete_recipient(std::string_view address) {
  std::string data;
  put_string(data, address);
  return encode(reply::del_rcpt, data);
}

std::string encode_quarantine(std::string_view reason) {
  std::string data;
  put_string(data, reason);
  return encode(reply::quarantine, data);
}

}  // namespace cordon::milter
