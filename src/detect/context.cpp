// A finding in its context, for the incident an analyst reviews: a few
// words either side of the matched value, the value itself replaced by its
// mask, and every other finding that reaches into the snippet masked too,
// so a snippet never carries a secret in plain text.
#include <algorithm>
#include <cctype>

#include "detect/detect.hpp"

namespace cordon::detect {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string masked;  // what stands in for it
};

}  // namespace

std::string masked_context(std::string_view text, const Finding& at,
                           std::span<const RuleFindings> all, std::size_t width) {
  if (at.begin >= at.end || at.end > text.size()) return at.masked;
  const std::size_t budget = width > at.masked.size() ? width - at.masked.size() : 0;
  const std::size_t side = budget / 2;
  std::size_t start = at.begin - std::min(at.begin, side);
  std::size_t end = std::min(text.size(), at.end + side);

  // Every finding in the window is masked. One that crosses an edge of it
  // ends the window there; ones that overlap each other (two rules on one
  // value) are masked as one.
  std::vector<Span> secrets;
  for (const auto& rule : all)
    for (const auto& f : rule.findings) {
      if (f.end <= start || f.begin >= end || f.begin >= f.end) continue;
      const bool touches_at = f.begin < at.end && f.end > at.begin;
      if (!touches_at && f.begin < start) {
        start = std::max(start, f.end);
        continue;
      }
      if (!touches_at && f.end > end) {
        end = std::min(end, f.begin);
        continue;
      }
      secrets.push_back({f.begin, f.end, f.masked});
    }
  secrets.push_back({at.begin, at.end, at.masked});
  std::sort(secrets.begin(), secrets.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::vector<Span> merged;
  for (auto& s : secrets) {
    if (s.end <= start || s.begin >= end) continue;
    if (!merged.empty() && s.begin < merged.back().end) {
      auto& m = merged.back();
      if (s.begin == m.begin && s.end == m.end) continue;  // the same value twice
      m.end = std::max(m.end, s.end);
      m.masked = mask(text.substr(m.begin, m.end - m.begin));
      continue;
    }
    merged.push_back(std::move(s));
  }
  const std::size_t first = merged.empty() ? at.begin : merged.front().begin;
  const std::size_t last = merged.empty() ? at.end : merged.back().end;
  start = std::min(start, first);
  end = std::max(end, last);

  // Whole words at the edges, and never half a UTF-8 sequence.
  if (start > 0 && !is_space(text[start - 1])) {
    std::size_t s = start;
    while (s < first && !is_space(text[s])) ++s;
    if (s < first) start = s;
  }
  while (start < first && continuation(text[start])) ++start;
  if (end < text.size() && !is_space(text[end])) {
    std::size_t e = end;
    while (e > last && !is_space(text[e - 1])) --e;
    if (e > last) end = e;
  }
  while (end > last && end < text.size() && continuation(text[end])) --end;

  std::string out;
  auto plain = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      const char c = text[i];
      const bool blank = is_space(c) || (static_cast<unsigned char>(c) < 0x20);
      if (blank) {
        if (!out.empty() && out.back() != ' ') out += ' ';
      } else {
        out += c;
      }
    }
  };
  std::size_t pos = start;
  for (const auto& s : merged) {
    plain(pos, s.begin);
    out += s.masked;
    pos = s.end;
  }
  plain(pos, end);
  // Trim the blanks the edges leave.
  const auto first_char = out.find_first_not_of(' ');
  const auto last_char = out.find_last_not_of(' ');
  if (first_char == std::string::npos) return at.masked;
  return (start > 0 ? "…" : "") + out.substr(first_char, last_char - first_char + 1) +
         (end < text.size() ? "…" : "");
}

std::string masked_excerpt(std::string_view text, std::span<const RuleFindings> all,
                           std::size_t max_bytes) {
  std::size_t end = std::min(text.size(), max_bytes);
  std::vector<Span> secrets;
  for (const auto& rule : all)
    for (const auto& f : rule.findings)
      if (f.begin < f.end && f.end <= text.size()) secrets.push_back({f.begin, f.end, f.masked});
  std::sort(secrets.begin(), secrets.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::vector<Span> merged;
  for (auto& s : secrets) {
    if (!merged.empty() && s.begin < merged.back().end) {
      auto& m = merged.back();
      if (s.begin == m.begin && s.end == m.end) continue;
      m.end = std::max(m.end, s.end);
      m.masked = mask(text.substr(m.begin, m.end - m.begin));
      continue;
    }
    merged.push_back(std::move(s));
  }
  // A value the cut would split is left out, not half shown.
  for (const auto& s : merged)
    if (s.begin < end && s.end > end) end = s.begin;
  while (end > 0 && end < text.size() && continuation(text[end])) --end;

  std::string out;
  std::size_t pos = 0;
  for (const auto& s : merged) {
    if (s.begin >= end) break;
    out.append(text.substr(pos, s.begin - pos));
    out += s.masked;
    pos = s.end;
  }
  if (pos < end) out.append(text.substr(pos, end - pos));
  return out;
}

}  // namespace cordon::detect
