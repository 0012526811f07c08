// Charset conversion: hand-written fast paths for UTF-8, Windows-1252 /
// Latin-1 and UTF-16 (the bulk of real mail), iconv for everything else with
// GMime's alias table translating MIME charset names to iconv names.
#include "mime/charset.hpp"

#include <iconv.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <memory>

#include "mime/detail/gmime_support.hpp"
#include "util/ascii.hpp"
#include "util/utf8.hpp"

namespace cordon::mime::detail {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Windows-1252 0x80..0x9F; the five undefined bytes map to C1 controls as
// in the WHATWG encoding standard.
constexpr std::array<char16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

std::string normalize_name(std::string_view name) {
  std::string n;
  for (char c : name) {
    if (c == '"' || c == '\'' || c == ' ' || c == '\t') continue;
    n.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return n;
}

bool is_one_of(const std::string& n, std::initializer_list<std::string_view> names) {
  for (auto v : names) {
    if (n == v) return true;
  }
  return false;
}

using util::utf8_sequence_length;

class Output {
 public:
  Output(Utf8Text& r, std::size_t cap) : r_(r), cap_(cap) {}
  bool full() const { return r_.truncated; }
  bool append(std::string_view s) {
    if (r_.text.size() + s.size() > cap_) {
      r_.truncated = true;
      return false;
    }
    r_.text.append(s);
    return true;
  }
  bool code_point(char32_t cp) {
    if (r_.text.size() + 4 > cap_) {
      r_.truncated = true;
      return false;
    }
    append_utf8(r_.text, cp);
    return true;
  }
  bool replacement() {
    ++r_.replaced;
    return append(kReplacement);
  }

 private:
  Utf8Text& r_;
  std::size_t cap_;
};

void decode_utf8_lenient(std::string_view in, Output& out) {
  std::size_t i = 0;
  while (i < in.size() && !out.full()) {
    // Copy the longest valid run in one go.
    std::size_t start = i;
    while (i < in.size()) {
      std::size_t n = utf8_sequence_length(in, i);
      if (n == 0) break;
      i += n;
    }
    if (!out.append(in.substr(start, i - start))) return;
    if (i < in.size()) {
      out.replacement();
      ++i;
    }
  }
}

void decode_cp1252(std::string_view in, Output& out) {
  for (unsigned char c : in) {
    char32_t cp = c < 0x80 ? c : c < 0xA0 ? kCp1252High[c - 0x80] : c;
    if (!out.code_point(cp)) return;
  }
}

void decode_utf16(std::string_view in, bool little_endian, Output& out) {
  auto unit = [&](std::size_t i) -> char16_t {
    auto lo = static_cast<unsigned char>(in[i + (little_endian ? 0 : 1)]);
    auto hi = static_cast<unsigned char>(in[i + (little_endian ? 1 : 0)]);
    return static_cast<char16_t>(hi << 8 | lo);
  };
  std::size_t i = 0;
  while (i + 1 < in.size()) {
    char16_t u = unit(i);
    i += 2;
    char32_t cp = u;
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < in.size()) {
      char16_t low = unit(i);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        cp = 0x10000 + ((static_cast<char32_t>(u) - 0xD800) << 10) + (low - 0xDC00);
        i += 2;
      }
    }
    bool ok = (cp >= 0xD800 && cp <= 0xDFFF) ? out.replacement() : out.code_point(cp);
    if (!ok) return;
  }
  if (i < in.size()) out.replacement();  // odd trailing byte
}

// UTF-16 text without a BOM shows NUL bytes in one parity position (ASCII
// and Latin characters have a zero high byte). Returns 1 for LE, 2 for BE,
// 0 when the bytes do not look like UTF-16.
int guess_utf16(std::string_view in) {
  std::size_t n = std::min<std::size_t>(in.size(), 4096) & ~std::size_t{1};
  if (n < 4) return 0;
  std::size_t even_zero = 0, odd_zero = 0;
  for (std::size_t i = 0; i < n; i += 2) {
    even_zero += in[i] == '\0';
    odd_zero += in[i + 1] == '\0';
  }
  std::size_t units = n / 2;
  if (odd_zero * 10 >= units * 3 && even_zero * 10 < units) return 1;
  if (even_zero * 10 >= units * 3 && odd_zero * 10 < units) return 2;
  return 0;
}

struct IconvCloser {
  void operator()(iconv_t cd) const { iconv_close(cd); }
};

// Converts with iconv; returns false when iconv does not know the charset.
bool decode_iconv(std::string_view in, const char* iconv_name, Output& out) {
  iconv_t raw = iconv_open("UTF-8", iconv_name);
  if (raw == reinterpret_cast<iconv_t>(-1)) return false;
  std::unique_ptr<std::remove_pointer_t<iconv_t>, IconvCloser> cd(raw);
  std::array<char, 16384> buffer;
  char* src = const_cast<char*>(in.data());  // iconv's API is not const-correct
  std::size_t src_left = in.size();
  bool flushing = false;
  while (!out.full()) {
    char* dst = buffer.data();
    std::size_t dst_left = buffer.size();
    std::size_t rc = flushing ? iconv(cd.get(), nullptr, nullptr, &dst, &dst_left)
                              : iconv(cd.get(), &src, &src_left, &dst, &dst_left);
    int err = rc == static_cast<std::size_t>(-1) ? errno : 0;
    if (!out.append(std::string_view(buffer.data(), buffer.size() - dst_left))) break;
    if (flushing) break;
    if (err == E2BIG) continue;
    if (err == EILSEQ) {
      out.replacement();
      ++src;
      --src_left;
      continue;
    }
    if (err == EINVAL) {  // incomplete sequence at the end
      out.replacement();
      src_left = 0;
    }
    if (src_left == 0) flushing = true;
  }
  return true;
}

// MIME labels whose real-world content is a superset encoding.
const char* superset_iconv_name(const std::string& n) {
  if (is_one_of(
          n, {"gb2312", "gbk", "x-gbk", "cp936", "gb_2312-80", "euc-cn", "x-euc-cn", "gb18030"})) {
    return "GB18030";
  }
  if (is_one_of(n,
                {"shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "windows-31j", "cp932"})) {
    return "CP932";
  }
  if (is_one_of(n, {"euc-kr", "ks_c_5601-1987", "cp949", "ks_c_5601"})) return "CP949";
  if (is_one_of(n, {"big5", "x-big5", "cn-big5", "big5-hkscs"})) return "BIG5-HKSCS";
  return nullptr;
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid_utf8(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    // Skip ASCII runs many bytes at a time: most mail text is ASCII.
    i += util::ascii_prefix_length(bytes.substr(i));
    if (i >= bytes.size()) break;
    std::size_t n = utf8_sequence_length(bytes, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::size_t sanitize_utf8(std::string_view bytes, std::string& out) {
  Utf8Text r;
  r.text.swap(out);
  Output o(r, static_cast<std::size_t>(-1));
  decode_utf8_lenient(bytes, o);
  out.swap(r.text);
  return r.replaced;
}

Utf8Text to_utf8(std::string_view bytes, std::string_view declared_charset,
                 std::size_t max_output) {
  Utf8Text r;
  Output out(r, max_output);
  std::string name = normalize_name(declared_charset);

  // A byte-order mark is stronger evidence than any label.
  auto starts = [&](std::string_view p) { return bytes.substr(0, p.size()) == p; };
  if (starts("\xEF\xBB\xBF")) {
    r.charset_used = "utf-8";
    decode_utf8_lenient(bytes.substr(3), out);
    return r;
  }
  if (starts("\xFF\xFE") || starts("\xFE\xFF")) {
    bool le = starts("\xFF\xFE");
    r.charset_used = le ? "utf-16le" : "utf-16be";
    decode_utf16(bytes.substr(2), le, out);
    return r;
  }

  bool label_utf16 = is_one_of(name, {"utf-16", "utf16", "utf-16le", "utf-16be", "ucs-2", "ucs2",
                                      "unicode", "ucs-2le", "ucs-2be"});
  bool label_weak =
      name.empty() ||
      is_one_of(name, {"us-ascii", "ascii", "utf-8", "utf8", "iso-8859-1", "latin1", "iso8859-1",
                       "windows-1252", "cp1252", "x-unknown", "unknown-8bit", "default"});
  if (label_utf16 || label_weak) {
    int guess = guess_utf16(bytes);
    if (label_utf16 || guess != 0) {
      bool le = name.ends_with("be") ? false : name.ends_with("le") ? true : guess != 2;
      r.charset_used = le ? "utf-16le" : "utf-16be";
      decode_utf16(bytes, le, out);
      return r;
    }
  }

  // 7-bit stateful encodings (ISO-2022-*, UTF-7, HZ) are not ASCII even
  // when every byte is below 0x80.
  bool stateful = name.starts_with("iso-2022") || name == "utf-7" || name == "hz-gb-2312";
  // One pass over the usual all-ASCII text: its prefix is the whole of it.
  const std::size_t ascii = util::ascii_prefix_length(bytes);
  if (!stateful && (ascii == bytes.size() || is_valid_utf8(bytes.substr(ascii)))) {
    // Valid multi-byte UTF-8 under a legacy label is far more often a wrong
    // label than legacy text that happens to form valid UTF-8.
    r.charset_used = ascii != bytes.size() ? "utf-8" : (name.empty() ? "us-ascii" : name);
    if (!out.append(bytes)) {
      // Cut at a character boundary so the text stays valid UTF-8.
      std::size_t cut = std::min(bytes.size(), max_output);
      while (cut > 0 && (static_cast<unsigned char>(bytes[cut]) & 0xC0) == 0x80) --cut;
      r.text.assign(bytes.substr(0, cut));
    }
    return r;
  }
  if (name == "utf-8" || name == "utf8") {
    r.charset_used = "utf-8";
    decode_utf8_lenient(bytes, out);
    return r;
  }
  if (label_weak) {
    // Latin-1 is read as Windows-1252 (its C1 range is unused in mail).
    r.charset_used = "windows-1252";
    decode_cp1252(bytes, out);
    return r;
  }

  std::string declared(declared_charset);
  const char* iconv_name = superset_iconv_name(name);
  if (iconv_name == nullptr) {
    gmime_options();  // GMime's charset tables need g_mime_init()
    iconv_name = g_mime_charset_iconv_name(declared.c_str());
  }
  if (iconv_name != nullptr && decode_iconv(bytes, iconv_name, out)) {
    r.charset_used = name;
    // A converter may pass on what is not UTF-8 (glibc's UTF-8 reader, behind
    // an alias of it, takes code points above U+10FFFF): the text must be.
    if (!is_valid_utf8(r.text)) {
      std::string fixed;
      r.replaced += sanitize_utf8(r.text, fixed);
      if (fixed.size() > max_output) {
        std::size_t cut = max_output;
        while (cut > 0 && (static_cast<unsigned char>(fixed[cut]) & 0xC0) == 0x80) --cut;
        fixed.resize(cut);
        r.truncated = true;
      }
      r.text.swap(fixed);
    }
    return r;
  }
  // Unknown charset, and not valid UTF-8 (handled above).
  r.charset_used = "windows-1252";
  decode_cp1252(bytes, out);
  return r;
}

}  // namespace cordon::mime::detail
