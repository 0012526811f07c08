// RTF to plain text (see documents.hpp). A single pass over the bytes
// with a group stack; bytes written as text or \'hh are collected and
// converted from the document's code page in runs, \uN code points are
// appended directly (and their \ucN fallback characters skipped).
#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

#include "extract/detail/documents.hpp"
#include "mime/charset.hpp"

namespace cordon::extract::detail {
namespace {

// Destinations whose content is not reader-visible text.
bool ignorable_destination(std::string_view word) {
  static constexpr std::string_view kIgnored[] = {"fonttbl",
                                                  "colortbl",
                                                  "stylesheet",
                                                  "info",
                                                  "pict",
                                                  "object",
                                                  "objdata",
                                                  "themedata",
                                                  "colorschememapping",
                                                  "datastore",
                                                  "latentstyles",
                                                  "listtable",
                                                  "listoverridetable",
                                                  "rsidtbl",
                                                  "generator",
                                                  "xmlnstbl",
                                                  "mmathPr",
                                                  "filetbl",
                                                  "revtbl",
                                                  "bkmkstart",
                                                  "bkmkend",
                                                  "fldinst"};
  for (auto w : kIgnored)
    if (word == w) return true;
  return false;
}

struct GroupState {
  bool skip = false;
  int uc = 1;  // fallback characters after \uN
};

class RtfReader {
 public:
  explicit RtfReader(std::string_view rtf) : in_(rtf) {}

  std::string run() {
    std::vector<GroupState> stack{GroupState{}};
    bool group_start = false;  // the next control word is the first of its group
    std::size_t i = 0;
    while (i < in_.size()) {
      char c = in_[i];
      if (c == '{') {
        stack.push_back(stack.back());
        group_start = true;
        ++i;
        continue;
      }
      if (c == '}') {
        if (stack.size() > 1) stack.pop_back();
        group_start = false;
        ++i;
        continue;
      }
      GroupState& g = stack.back();
      if (c == '\\') {
        i = control(i + 1, g, group_start);
        group_start = false;
        continue;
      }
      group_start = false;
      ++i;
      if (c == '\r' || c == '\n') continue;
      if (!g.skip) text_byte(c);
    }
    flush();
    return std::move(out_);
  }

 private:
  // Parses the control word or symbol after a backslash at `i`; returns the
  // index after it.
  std::size_t control(std::size_t i, GroupState& g, bool group_start) {
    if (i >= in_.size()) return i;
    char c = in_[i];
    if (!std::isalpha(static_cast<unsigned char>(c))) {
      switch (c) {
        case '\'': {
          std::size_t end = std::min(i + 3, in_.size());
          unsigned v = 0;
          auto [p, ec] = std::from_chars(in_.data() + i + 1, in_.data() + end, v, 16);
          if (end == i + 3 && ec == std::errc() && p == in_.data() + end && !g.skip)
            text_byte(static_cast<char>(v));
          return end;
        }
        case '*':
          if (group_start) g.skip = true;
          return i + 1;
        case '~':
          if (!g.skip) text_byte(' ');
          return i + 1;
        case '_':
          if (!g.skip) text_byte('-');
          return i + 1;
        case '\r':
        case '\n':
          if (!g.skip) newline();
          return i + 1;
        case '\\':
        case '{':
        case '}':
          if (!g.skip) text_byte(c);
          return i + 1;
        default:
          return i + 1;  // \- \| \: and unknown symbols carry no text
      }
    }
    std::size_t start = i;
    while (i < in_.size() && std::isalpha(static_cast<unsigned char>(in_[i]))) ++i;
    std::string_view word = in_.substr(start, i - start);
    bool has_param = false;
    long param = 0;
    std::size_t num_start = i;
    if (i < in_.size() && (in_[i] == '-' || std::isdigit(static_cast<unsigned char>(in_[i])))) {
      ++i;
      while (i < in_.size() && std::isdigit(static_cast<unsigned char>(in_[i])) &&
             i - num_start < 10)
        ++i;
      auto [p, ec] = std::from_chars(in_.data() + num_start, in_.data() + i, param);
      has_param = ec == std::errc();
    }
    if (i < in_.size() && in_[i] == ' ') ++i;

    if (word == "bin" && has_param && param > 0) {
      return std::min(in_.size(), i + static_cast<std::size_t>(param));
    }
    if (group_start && ignorable_destination(word)) g.skip = true;
    if (g.skip) return i;
    if (word == "ansicpg" && has_param) {
      flush();
      charset_ = "windows-" + std::to_string(param);
    } else if (word == "uc" && has_param) {
      g.uc = static_cast<int>(std::clamp(param, 0L, 10L));
    } else if (word == "u" && has_param) {
      flush();
      long cp = param < 0 ? param + 65536 : param;
      mime::detail::append_utf8(out_, static_cast<char32_t>(cp));
      return skip_fallback(i, g.uc);
    } else if (word == "par" || word == "line" || word == "row" || word == "sect" ||
               word == "page") {
      newline();
    } else if (word == "tab" || word == "cell") {
      text_byte('\t');
    } else if (word == "emdash" || word == "endash") {
      text_byte('-');
    }
    return i;
  }

  // Skips `count` fallback characters (a \'hh counts as one).
  std::size_t skip_fallback(std::size_t i, int count) {
    while (count > 0 && i < in_.size()) {
      if (in_[i] == '\\' && i + 1 < in_.size() && in_[i + 1] == '\'') {
        i += 4;
      } else if (in_[i] == '{' || in_[i] == '}' || in_[i] == '\\') {
        break;
      } else {
        ++i;
      }
      --count;
    }
    return std::min(i, in_.size());
  }

  void text_byte(char c) { pending_ += c; }
  void newline() {
    flush();
    out_ += '\n';
  }
  void flush() {
    if (pending_.empty()) return;
    out_ += mime::detail::to_utf8(pending_, charset_).text;
    pending_.clear();
  }

  std::string_view in_;
  std::string out_;
  std::string pending_;
  std::string charset_ = "windows-1252";
};

}  // namespace

std::string rtf_text(std::string_view rtf) {
  return RtfReader(rtf).run();
}

}  // namespace cordon::extract::detail
