// Block reply builder: see reply_builder.hpp for the rules. Everything here
// is pure string work, so the limits can be proven by unit tests alone.
#include "smtp/reply_builder.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

namespace cordon::smtp {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kIncidentLabel = "Incident ID: ";
constexpr std::string_view kOverflowLead = "... and ";
constexpr std::size_t kMaxDecimalDigits = 20;  // digits of the largest uint64_t

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if the
// bytes there are not one (Unicode 15, table 3-7: no overlongs, no
// surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto in = [](unsigned char b, unsigned char lo, unsigned char hi) { return b >= lo && b <= hi; };
  const unsigned char b0 = byte(i);
  const std::size_t left = s.size() - i;
  if (in(b0, 0xC2, 0xDF)) return left >= 2 && in(byte(i + 1), 0x80, 0xBF) ? 2 : 0;
  if (in(b0, 0xE0, 0xEF)) {
    if (left < 3) return 0;
    unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
    return in(byte(i + 1), lo, hi) && in(byte(i + 2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(b0, 0xF0, 0xF4)) {
    if (left < 4) return 0;
    unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return in(byte(i + 1), lo, hi) && in(byte(i + 2), 0x80, 0xBF) && in(byte(i + 3), 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "550-5.7.0 " and "550 5.7.0 " have the same length.
std::size_t prefix_length(const BlockReplyOptions& o) {
  return 3 + 1 + o.enhanced.size() + 1;
}

std::string overflow_text(std::size_t omitted) {
  return std::string(kOverflowLead) + std::to_string(omitted) +
         (omitted == 1 ? " more violation" : " more violations");
}

// Word-wraps one sanitised, folded, non-empty text into line bodies of at
// most `width` characters.
std::vector<std::string> wrap(std::string_view text, std::size_t width) {
  std::vector<std::string> lines;
  std::string current;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, end - pos);
    pos = end + 1;
    if (!current.empty() && current.size() + 1 + word.size() <= width) {
      current += ' ';
      current += word;
      continue;
    }
    if (!current.empty()) lines.push_back(std::move(current));
    current.clear();
    while (word.size() > width) {  // a word longer than a whole line
      lines.emplace_back(word.substr(0, width));
      word.remove_prefix(width);
    }
    current = word;
  }
  if (!current.empty()) lines.push_back(std::move(current));
  return lines;
}

struct ShownText {
  std::vector<std::string> bodies;  // wrapped line bodies
  std::size_t bytes = 0;            // wire bytes of those lines
  std::size_t rules = 0;            // fired rules carrying this text (duplicates included)
};

bool valid_enhanced(std::string_view e) {
  // class "." subject "." detail; subject and detail 1-3 digits (RFC 3463).
  if (e.size() < 5 || !is_digit(e[0]) || e[1] != '.') return false;
  std::size_t pos = 2;
  for (int part = 0; part < 2; ++part) {
    std::size_t start = pos;
    while (pos < e.size() && is_digit(e[pos])) ++pos;
    std::size_t digits = pos - start;
    if (digits < 1 || digits > 3) return false;
    if (part == 0) {
      if (pos >= e.size() || e[pos] != '.') return false;
      ++pos;
    }
  }
  return pos == e.size();
}

}  // namespace

std::string_view describe(BlockReplyError error) {
  switch (error) {
    case BlockReplyError::code_out_of_range:
      return "block reply code must be a three-digit 4xx or 5xx code (second digit 0-5)";
    case BlockReplyError::enhanced_malformed:
      return "enhanced status code must look like 5.7.0 (class.subject.detail, 1-3 digits each)";
    case BlockReplyError::enhanced_class_mismatch:
      return "enhanced status code class must equal the reply code's first digit";
    case BlockReplyError::line_limit_out_of_range:
      return "max_line_bytes must be between 64 and 512 (CRLF included)";
    case BlockReplyError::reply_limit_too_small:
      return "max_reply_bytes is too small for the incident id line plus one more line";
  }
  return "unknown block reply error";
}

std::size_t min_reply_bytes(const BlockReplyOptions& options) {
  const std::size_t prefix = prefix_length(options);
  const std::size_t id_line = prefix + kIncidentLabel.size() + kMaxDecimalDigits + kCrlf.size();
  const std::size_t overflow_line = prefix + kOverflowLead.size() + kMaxDecimalDigits +
                                    std::string_view(" more violations").size() + kCrlf.size();
  std::size_t generic_lines = overflow_line;
  if (options.max_line_bytes > prefix + kCrlf.size()) {
    generic_lines = 0;
    for (const auto& body : wrap(kGenericBlockText, options.max_line_bytes - prefix - kCrlf.size()))
      generic_lines += prefix + body.size() + kCrlf.size();
  }
  return id_line + std::max(overflow_line, generic_lines);
}

Status<BlockReplyError> validate(const BlockReplyOptions& options) {
  const int code = options.code;
  if (code < 400 || code > 599 || (code / 10) % 10 > 5)
    return fail(BlockReplyError::code_out_of_range);
  if (!valid_enhanced(options.enhanced)) return fail(BlockReplyError::enhanced_malformed);
  if (options.enhanced[0] - '0' != code / 100)
    return fail(BlockReplyError::enhanced_class_mismatch);
  if (options.max_line_bytes < kMinLineBytes || options.max_line_bytes > kMaxLineBytes)
    return fail(BlockReplyError::line_limit_out_of_range);
  if (options.max_reply_bytes < min_reply_bytes(options))
    return fail(BlockReplyError::reply_limit_too_small);
  return Ok{};
}

std::string sanitize_reply_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;  // folds runs of white space into one
  auto put = [&](char c) {
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out += c;
  };
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == ' ' || c == '\r' || c == '\n' || c == '\t' || c == '\v' || c == '\f') {
      pending_space = true;
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      ++i;  // other control characters carry no meaning for a reader
    } else if (c < 0x80) {
      put(static_cast<char>(c));
      ++i;
    } else {
      const std::size_t n = utf8_sequence_length(text, i);
      put('?');
      i += n == 0 ? 1 : n;
    }
  }
  return out;
}

Result<std::string, BlockReplyError> build_block_reply(std::span<const std::string> texts,
                                                       std::uint64_t incident_id,
                                                       const BlockReplyOptions& options) {
  return build_block_reply(texts, std::string_view(std::to_string(incident_id)), options);
}

Result<std::string, BlockReplyError> build_block_reply(std::span<const std::string> texts,
                                                       std::string_view incident_reference,
                                                       const BlockReplyOptions& options) {
  if (auto ok = validate(options); !ok) return fail(ok.error());

  const std::size_t prefix = prefix_length(options);
  const std::size_t width = options.max_line_bytes - prefix - kCrlf.size();

  // Sanitise, fold, de-duplicate; remember how many rules each text stands for.
  std::vector<ShownText> unique;
  std::vector<std::string> keys;  // lower-cased texts for the comparison
  for (std::size_t rule = 0; rule < texts.size(); ++rule) {
    std::string clean = sanitize_reply_text(texts[rule]);
    if (clean.empty()) continue;
    std::string key = ascii_lower(clean);
    auto it = std::find(keys.begin(), keys.end(), key);
    if (it != keys.end()) {
      ++unique[static_cast<std::size_t>(it - keys.begin())].rules;
      continue;
    }
    ShownText shown;
    shown.bodies = wrap(clean, width);
    for (const auto& b : shown.bodies) shown.bytes += prefix + b.size() + kCrlf.size();
    shown.rules = 1;
    unique.push_back(std::move(shown));
    keys.push_back(std::move(key));
  }
  if (unique.empty()) {
    ShownText generic;
    generic.bodies = wrap(kGenericBlockText, width);
    for (const auto& b : generic.bodies) generic.bytes += prefix + b.size() + kCrlf.size();
    unique.push_back(std::move(generic));
  }

  std::string reference = sanitize_reply_text(incident_reference);
  if (reference.size() > kMaxReferenceBytes) reference.resize(kMaxReferenceBytes);
  const std::string id_body = std::string(kIncidentLabel) + reference;
  const std::size_t id_bytes = prefix + id_body.size() + kCrlf.size();

  // Everything fits, or: show the longest run of texts (in order) that fits
  // together with the overflow line naming how many rules were left out.
  // Rules whose text was empty count as left out only in the second case.
  std::size_t shown = unique.size();
  std::optional<std::string> overflow;
  std::size_t total = id_bytes;
  for (const auto& u : unique) total += u.bytes;
  if (total > options.max_reply_bytes) {
    std::size_t used = id_bytes;
    std::size_t rules_shown = 0;
    shown = 0;
    for (const auto& u : unique) {
      const std::size_t rules_left_out = texts.size() - rules_shown - u.rules;
      const std::size_t overflow_bytes =
          prefix + overflow_text(rules_left_out).size() + kCrlf.size();
      if (used + u.bytes + overflow_bytes > options.max_reply_bytes) break;
      used += u.bytes;
      rules_shown += u.rules;
      ++shown;
    }
    // validate() guarantees the id line and the overflow line fit, and the
    // generic text (rules == 0) always fits, so something is left out here.
    overflow = overflow_text(texts.size() - rules_shown);
  }

  std::vector<std::string_view> bodies;
  bodies.push_back(id_body);
  for (std::size_t k = 0; k < shown; ++k)
    for (const auto& b : unique[k].bodies) bodies.push_back(b);
  if (overflow) bodies.push_back(*overflow);

  const std::string code = std::to_string(options.code);
  std::string reply;
  reply.reserve(options.max_reply_bytes);
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    reply += code;
    reply += i + 1 == bodies.size() ? ' ' : '-';
    reply += options.enhanced;
    reply += ' ';
    reply += bodies[i];
    reply += kCrlf;
  }
  return reply;
}

}  // namespace cordon::smtp
