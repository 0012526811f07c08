// Tolerant transfer decoders. Base64 accepts missing padding, line breaks
// anywhere and stray characters (counted, skipped), because real mailers and
// evasion attempts both produce them and the content must still be inspected.
#include "mime/transfer_decode.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace cordon::mime::detail {

namespace {

constexpr std::uint8_t kInvalid = 0xFF;
constexpr std::uint8_t kSkip = 0xFE;  // white space: ignored without complaint

constexpr std::array<std::uint8_t, 256> make_base64_table() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
  // URL-safe alphabet variants decode too: some generators use them.
  t['-'] = 62;
  t['_'] = 63;
  for (unsigned char c : {' ', '\t', '\r', '\n', '\f', '\v'}) t[c] = kSkip;
  return t;
}
constexpr auto kBase64 = make_base64_table();

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string lower_trimmed(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '"')) {
    v.remove_prefix(1);
  }
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '"' ||
                        v.back() == '\r' || v.back() == '\n')) {
    v.remove_suffix(1);
  }
  std::string s(v);
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

class CappedWriter {
 public:
  CappedWriter(std::string& out, std::size_t cap, DecodeReport& report)
      : out_(out), limit_(out.size() + cap), report_(report) {}
  bool put(char c) {
    if (out_.size() >= limit_) {
      report_.truncated = true;
      return false;
    }
    out_.push_back(c);
    return true;
  }
  bool append(std::string_view s) {
    std::size_t room = limit_ - out_.size();
    if (s.size() > room) {
      out_.append(s.substr(0, room));
      report_.truncated = true;
      return false;
    }
    out_.append(s);
    return true;
  }

 private:
  std::string& out_;
  std::size_t limit_;
  DecodeReport& report_;
};

// Both decoders write straight into a buffer sized for the worst case and
// trim it afterwards: byte-wise push_back dominated the profile.
void decode_base64(std::string_view in, std::string& out, std::size_t cap, DecodeReport& report) {
  const std::size_t base = out.size();
  const std::size_t room = std::min(cap, in.size() / 4 * 3 + 3);
  out.resize(base + room);
  char* dst = out.data() + base;
  char* const limit = dst + room;
  std::uint32_t acc = 0;
  int bits = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const auto* const end = p + in.size();
  while (p < end) {
    // Fast path: four alphabet characters make three bytes.
    if (bits == 0 && end - p >= 4 && limit - dst >= 3) {
      std::uint8_t a = kBase64[p[0]], b = kBase64[p[1]], c = kBase64[p[2]], d = kBase64[p[3]];
      if ((a | b | c | d) < 64) {
        std::uint32_t v =
            (std::uint32_t{a} << 18) | (std::uint32_t{b} << 12) | (std::uint32_t{c} << 6) | d;
        dst[0] = static_cast<char>(v >> 16);
        dst[1] = static_cast<char>((v >> 8) & 0xFF);
        dst[2] = static_cast<char>(v & 0xFF);
        dst += 3;
        p += 4;
        continue;
      }
    }
    unsigned char ch = *p++;
    std::uint8_t v = kBase64[ch];
    if (v == kSkip) continue;
    if (ch == '=') {
      // Padding ends a quantum; leftover bits were padding. Decoding goes
      // on afterwards because concatenated base64 blocks are common.
      acc = 0;
      bits = 0;
      continue;
    }
    if (v == kInvalid) {
      ++report.invalid_chars;
      continue;
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (dst == limit) {
        report.truncated = true;
        break;
      }
      *dst++ = static_cast<char>((acc >> bits) & 0xFF);
      if (bits == 0) acc = 0;
    }
  }
  // 6 leftover bits cannot form a byte: a truncated quantum. 2 or 4 leftover
  // bits are the normal remainder of unpadded input.
  if (bits >= 6 && !report.truncated) report.incomplete = true;
  out.resize(static_cast<std::size_t>(dst - out.data()));
}

void decode_quoted_printable(std::string_view in, std::string& out, std::size_t cap,
                             DecodeReport& report) {
  const std::size_t base = out.size();
  const std::size_t room = std::min(cap, in.size());
  out.resize(base + room);
  char* dst = out.data() + base;
  char* const limit = dst + room;
  std::size_t i = 0;
  auto put = [&](char c) {
    if (dst == limit) {
      report.truncated = true;
      return false;
    }
    *dst++ = c;
    return true;
  };
  while (i < in.size()) {
    // Copy the run up to the next character that needs attention: an '='
    // or white space that may be trailing (followed by more white space, a
    // line end or the end). A space between words is part of the run.
    std::size_t run = i;
    // Sixteen bytes a step to the block that holds it, then byte by byte.
    while (run + 17 <= in.size()) {
      using Bytes = unsigned char __attribute__((vector_size(16)));
      Bytes here, next;
      std::memcpy(&here, in.data() + run, 16);
      std::memcpy(&next, in.data() + run + 1, 16);
      const auto blank = (here == ' ') | (here == '\t');
      const auto ends = (next == ' ') | (next == '\t') | (next == '\r') | (next == '\n');
      const auto hits = (here == '=') | (blank & ends);
      std::uint64_t halves[2];
      std::memcpy(halves, &hits, sizeof halves);
      if ((halves[0] | halves[1]) != 0) break;
      run += 16;
    }
    while (run < in.size()) {
      const char ch = in[run];
      if (ch == '=') break;
      if (ch == ' ' || ch == '\t') {
        if (run + 1 == in.size()) break;
        const char next = in[run + 1];
        if (next == ' ' || next == '\t' || next == '\r' || next == '\n') break;
      }
      ++run;
    }
    std::size_t n = std::min<std::size_t>(run - i, static_cast<std::size_t>(limit - dst));
    std::copy_n(in.data() + i, n, dst);
    dst += n;
    if (n < run - i) {
      report.truncated = true;
      break;
    }
    i = run;
    if (i >= in.size()) break;
    char c = in[i];
    if (c != '=') {
      // Trailing white space before a line break is transport padding.
      std::size_t j = i;
      while (j < in.size() && (in[j] == ' ' || in[j] == '\t')) ++j;
      if (j == in.size() || in[j] == '\n' || in[j] == '\r') {
        i = j;
        continue;
      }
      if (!put(c)) break;
      ++i;
      continue;
    }
    // Soft line break: '=' then optional white space then a line end.
    std::size_t j = i + 1;
    while (j < in.size() && (in[j] == ' ' || in[j] == '\t')) ++j;
    if (j == in.size()) break;
    if (in[j] == '\r' || in[j] == '\n') {
      if (in[j] == '\r' && j + 1 < in.size() && in[j + 1] == '\n') ++j;
      i = j + 1;
      continue;
    }
    if (i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      if (!put(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])))) break;
      i += 3;
      continue;
    }
    // A bad escape is kept literally (what most readers show).
    ++report.invalid_chars;
    if (!put('=')) break;
    ++i;
  }
  out.resize(static_cast<std::size_t>(dst - out.data()));
}

std::string_view next_line(std::string_view in, std::size_t& pos) {
  std::size_t end = in.find('\n', pos);
  if (end == std::string_view::npos) end = in.size();
  std::string_view line = in.substr(pos, end - pos);
  pos = end == in.size() ? end : end + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

void decode_uuencode(std::string_view in, CappedWriter& w, DecodeReport& report) {
  std::size_t pos = 0;
  bool begun = false;
  while (pos < in.size()) {
    std::string_view line = next_line(in, pos);
    if (!begun) {
      begun = line.substr(0, 6) == "begin ";
      continue;
    }
    if (line == "end") return;
    if (line.empty()) continue;
    std::size_t count = (static_cast<unsigned char>(line[0]) - 32) & 63;
    if (count == 0) continue;
    std::size_t produced = 0;
    for (std::size_t i = 1; i < line.size() && produced < count; i += 4) {
      std::uint32_t quad = 0;
      for (std::size_t k = 0; k < 4; ++k) {
        unsigned char ch = i + k < line.size() ? static_cast<unsigned char>(line[i + k]) : ' ';
        if (ch < 32 || ch > 96) ++report.invalid_chars;
        quad = (quad << 6) | ((ch - 32) & 63);
      }
      for (int shift = 16; shift >= 0 && produced < count; shift -= 8, ++produced) {
        if (!w.put(static_cast<char>((quad >> shift) & 0xFF))) return;
      }
    }
  }
  report.incomplete = true;  // no "end" line (or no "begin" at all)
}

}  // namespace

TransferEncoding transfer_encoding_from_name(std::string_view value, bool& known) {
  std::string v = lower_trimmed(value);
  known = true;
  if (v == "base64") return TransferEncoding::base64;
  if (v == "quoted-printable") return TransferEncoding::quoted_printable;
  if (v == "x-uuencode" || v == "uuencode" || v == "x-uue") return TransferEncoding::uuencode;
  if (v.empty() || v == "7bit" || v == "8bit" || v == "binary") return TransferEncoding::identity;
  known = false;
  return TransferEncoding::identity;
}

void decode_transfer(std::string_view encoded, TransferEncoding encoding, std::size_t max_output,
                     std::string& out, DecodeReport& report) {
  CappedWriter w(out, max_output, report);
  switch (encoding) {
    case TransferEncoding::base64:
      decode_base64(encoded, out, max_output, report);
      return;
    case TransferEncoding::quoted_printable:
      decode_quoted_printable(encoded, out, max_output, report);
      return;
    case TransferEncoding::uuencode:
      decode_uuencode(encoded, w, report);
      return;
    case TransferEncoding::identity:
      w.append(encoded);
      return;
  }
}

namespace {

bool is_octal_mode(std::string_view s) {
  return s.size() >= 3 && s.size() <= 4 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '7'; });
}

// "begin MODE NAME": the name, or nullopt-like false when not a begin line.
bool begin_line(std::string_view line, std::string& name) {
  if (!line.starts_with("begin ")) return false;
  std::string_view rest = line.substr(6);
  std::size_t sp = rest.find(' ');
  if (!is_octal_mode(rest.substr(0, sp))) return false;
  name = sp == std::string_view::npos ? std::string() : std::string(rest.substr(sp + 1));
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
  return true;
}

// Start of the next line at or after line start `from` that begins with
// "begin ", or npos. Sixty-four positions at a time look for a line break
// followed by 'b' (rare in text), and only those are checked in full:
// string_view::find would stop at every 'b', memmem is hardly faster.
std::size_t find_begin_line(std::string_view text, std::size_t from) {
  constexpr std::string_view kBegin = "begin ";
  if (from == 0 && text.starts_with(kBegin)) return 0;
  using Bytes = unsigned char __attribute__((vector_size(16)));
  const char* p = text.data();
  const std::size_t n = text.size();
  // A line at `from` > 0 is preceded by its line break at from - 1.
  std::size_t i = from == 0 ? 0 : from - 1;
  auto full_match = [&](std::size_t at) {
    return p[at] == '\n' && text.substr(at + 1, kBegin.size()) == kBegin;
  };
  auto hits_at = [&](std::size_t at) {
    Bytes here, next;
    std::memcpy(&here, p + at, 16);
    std::memcpy(&next, p + at + 1, 16);
    return (here == '\n') & (next == 'b');
  };
  auto any = [](const auto& hits) {
    std::uint64_t halves[2];
    std::memcpy(halves, &hits, sizeof halves);
    return (halves[0] | halves[1]) != 0;
  };
  // Four blocks a step: one test for 64 positions, which mostly finds nothing.
  for (; i + 65 <= n; i += 64) {
    if (!any(hits_at(i) | hits_at(i + 16) | hits_at(i + 32) | hits_at(i + 48))) continue;
    for (std::size_t k = i; k < i + 64; ++k)
      if (full_match(k)) return k + 1;
  }
  for (; i < n; ++i)
    if (full_match(i)) return i + 1;
  return std::string_view::npos;
}

}  // namespace

std::vector<UuencodedBlock> find_uuencoded_blocks(std::string_view text, std::size_t max_blocks,
                                                  bool& more) {
  more = false;
  std::vector<UuencodedBlock> out;
  std::size_t pos = 0;
  std::size_t start = 0;
  bool open = false;
  std::string name;
  while (pos < text.size()) {
    if (!open) {
      // Outside a file only a "begin " line matters: jump to the next one
      // instead of reading the text line by line.
      const std::size_t begin = find_begin_line(text, pos);
      if (begin == std::string_view::npos) break;
      pos = begin;
    }
    std::size_t line_start = pos;
    std::string_view line = next_line(text, pos);
    if (!open) {
      if (begin_line(line, name)) {
        if (out.size() == max_blocks) {
          more = true;
          return out;
        }
        open = true;
        start = line_start;
      }
      continue;
    }
    if (line == "end") {
      out.push_back({std::move(name), text.substr(start, pos - start)});
      name.clear();
      open = false;
    }
  }
  if (open) out.push_back({std::move(name), text.substr(start)});
  return out;
}

TransferEncoding guess_transfer_encoding(std::string_view body) {
  std::size_t pos = 0;
  std::size_t alphabet = 0;
  bool base64 = true;
  bool escapes = false;
  bool qp = true;
  while (pos < body.size() && (base64 || qp)) {
    std::string_view line = next_line(body, pos);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    std::size_t padding = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      if (c == '=') {
        if (i + 1 == line.size()) {
          escapes = true;  // soft line break
        } else if (i + 2 < line.size() && hex_value(line[i + 1]) >= 0 &&
                   hex_value(line[i + 2]) >= 0) {
          escapes = true;
        } else {
          qp = false;
        }
        ++padding;
      } else if (kBase64[c] < 64 && c != '-' && c != '_') {
        if (padding > 0) base64 = false;  // '=' only at the end of a line
        ++alphabet;
      } else {
        base64 = false;
      }
    }
    if (!line.empty() && (line.size() % 4 != 0 || padding > 2)) base64 = false;
  }
  if (base64 && alphabet >= 16) return TransferEncoding::base64;
  if (qp && escapes) return TransferEncoding::quoted_printable;
  return TransferEncoding::identity;
}

}  // namespace cordon::mime::detail
