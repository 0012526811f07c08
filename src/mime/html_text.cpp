// A small HTML tokenizer written as a state machine over one buffer: no
// recursion, no backtracking, so hostile markup (unclosed tags, endless
// attributes, megabyte-long lines) costs linear time.
#include "mime/html_text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "mime/charset.hpp"

namespace cordon::mime::detail {

namespace {

// Attributes whose values a reader sees or that hold form text: alt, title,
// value, the input hint attribute of form fields, meta `content`, label, aria-label and
// summary.
constexpr std::array<std::string_view, 8> kTextAttributes = {
    "alt", "title", "value", "placeholder", "content", "label", "aria-label", "summary"};

struct NamedEntity {
  std::string_view name;
  char32_t code_point;
};

// The entities that occur in real mail; anything else is left as written.
constexpr std::array<NamedEntity, 62> kEntities = {{
    {"nbsp", 0x20},     {"amp", '&'},      {"lt", '<'},       {"gt", '>'},        {"quot", '"'},
    {"apos", '\''},     {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122},  {"euro", 0x20AC},
    {"pound", 0xA3},    {"yen", 0xA5},     {"cent", 0xA2},    {"sect", 0xA7},     {"deg", 0xB0},
    {"plusmn", 0xB1},   {"middot", 0xB7},  {"ndash", 0x2013}, {"mdash", 0x2014},  {"lsquo", 0x2018},
    {"rsquo", 0x2019},  {"sbquo", 0x201A}, {"ldquo", 0x201C}, {"rdquo", 0x201D},  {"bdquo", 0x201E},
    {"hellip", 0x2026}, {"bull", 0x2022},  {"times", 0xD7},   {"divide", 0xF7},   {"laquo", 0xAB},
    {"raquo", 0xBB},    {"shy", 0xAD},     {"iexcl", 0xA1},   {"iquest", 0xBF},   {"para", 0xB6},
    {"micro", 0xB5},    {"auml", 0xE4},    {"ouml", 0xF6},    {"uuml", 0xFC},     {"Auml", 0xC4},
    {"Ouml", 0xD6},     {"Uuml", 0xDC},    {"szlig", 0xDF},   {"eacute", 0xE9},   {"egrave", 0xE8},
    {"ecirc", 0xEA},    {"aacute", 0xE1},  {"agrave", 0xE0},  {"acirc", 0xE2},    {"ccedil", 0xE7},
    {"iacute", 0xED},   {"oacute", 0xF3},  {"uacute", 0xFA},  {"ntilde", 0xF1},   {"Eacute", 0xC9},
    {"Ntilde", 0xD1},   {"ensp", 0x2002},  {"emsp", 0x2003},  {"thinsp", 0x2009}, {"zwnj", 0x200C},
    {"zwj", 0x200D},    {"frac12", 0xBD},
}};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
  return is_alpha(c) || (c >= '0' && c <= '9');
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool one_of(std::string_view tag, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), tag) != set.end();
}

bool is_block(std::string_view tag) {
  return one_of(
      tag,
      {"p",       "div",     "br",      "tr",     "li",         "ul",      "ol",         "table",
       "h1",      "h2",      "h3",      "h4",     "h5",         "h6",      "blockquote", "pre",
       "hr",      "dt",      "dd",      "dl",     "section",    "article", "header",     "footer",
       "form",    "title",   "address", "center", "caption",    "thead",   "tbody",      "tfoot",
       "nav",     "aside",   "main",    "figure", "figcaption", "option",  "legend",     "fieldset",
       "details", "summary", "body",    "html"});
}

// Decodes the entity starting at text[i] == '&'. On success appends the
// character, advances i past it and returns true.
bool decode_entity(std::string_view text, std::size_t& i, std::string& out) {
  std::size_t j = i + 1;
  if (j < text.size() && text[j] == '#') {
    ++j;
    bool hex = j < text.size() && (text[j] == 'x' || text[j] == 'X');
    if (hex) ++j;
    std::size_t digits_start = j;
    char32_t cp = 0;
    while (j < text.size() && j - digits_start < 8) {
      char c = text[j];
      int v = (c >= '0' && c <= '9')          ? c - '0'
              : hex && (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : hex && (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                              : -1;
      if (v < 0) break;
      cp = cp * (hex ? 16 : 10) + static_cast<char32_t>(v);
      ++j;
    }
    if (j == digits_start) return false;
    if (j < text.size() && text[j] == ';') ++j;
    if (cp == 0) cp = 0xFFFD;
    if (cp == 0xA0) cp = ' ';
    append_utf8(out, cp);
    i = j;
    return true;
  }
  std::size_t name_start = j;
  while (j < text.size() && j - name_start < 10 && is_alnum(text[j])) ++j;
  std::string_view name = text.substr(name_start, j - name_start);
  for (const auto& e : kEntities) {
    if (e.name == name) {
      if (j < text.size() && text[j] == ';') ++j;
      append_utf8(out, e.code_point);
      i = j;
      return true;
    }
  }
  return false;
}

class Converter {
 public:
  explicit Converter(std::string_view html) : in_(html) { out_.reserve(html.size() / 2); }

  std::string run() {
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (c == '<') {
        markup();
      } else if (c == '&') {
        if (!decode_entity(in_, pos_, pending_)) {
          pending_.push_back('&');
          ++pos_;
        }
        flush_pending();
      } else if (is_space(c)) {
        text_char(c);
        ++pos_;
      } else {
        // Copy a run of ordinary text at once.
        std::size_t run = pos_ + 1;
        while (run < in_.size() && in_[run] != '<' && in_[run] != '&' && !is_space(in_[run])) {
          ++run;
        }
        if (pending_space_) emit_space();
        out_.append(in_.substr(pos_, run - pos_));
        pos_ = run;
      }
    }
    while (!out_.empty() && is_space(out_.back())) out_.pop_back();
    return std::move(out_);
  }

 private:
  void text_char(char c) {
    if (pre_depth_ == 0 && is_space(c)) {
      pending_space_ = true;
      return;
    }
    if (pending_space_) emit_space();
    out_.push_back(c);
  }

  void flush_pending() {
    for (char c : pending_) text_char(c);
    pending_.clear();
  }

  void emit_space() {
    pending_space_ = false;
    if (!out_.empty() && !is_space(out_.back())) out_.push_back(' ');
  }

  void emit_break(char brk) {
    pending_space_ = false;
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\t')) out_.pop_back();
    // Adjacent block boundaries (</div><div>, <tr><td>) make one break.
    if (out_.empty() || out_.back() == '\n' || (brk == '\t' && out_.back() == '\t')) return;
    out_.push_back(brk);
  }

  void words(std::string_view value) {
    if (value.empty()) return;
    if (pending_space_ || (!out_.empty() && !is_space(out_.back()))) emit_space();
    std::size_t i = 0;
    while (i < value.size()) {
      if (value[i] == '&' && decode_entity(value, i, pending_)) continue;
      pending_.push_back(value[i++]);
    }
    flush_pending();
    pending_space_ = true;
  }

  // Skips to just past `terminator` (or to the end).
  void skip_past(std::string_view terminator) {
    std::size_t end = in_.find(terminator, pos_);
    pos_ = end == std::string_view::npos ? in_.size() : end + terminator.size();
  }

  // Text a reader never sees (comments, script and style contents, CDATA)
  // is still text the sender wrote: it is kept on lines of its own.
  void unseen_text(std::string_view raw) {
    emit_break('\n');
    for (char c : raw) {
      if (c == '\r' || c == '\n') {
        emit_break('\n');
      } else if (is_space(c)) {
        pending_space_ = true;
      } else {
        if (pending_space_) emit_space();
        out_.push_back(c);
      }
    }
    emit_break('\n');
  }

  // Reads raw text up to the closing tag of `tag` (case-insensitive).
  void raw_text(std::string_view tag) {
    std::size_t content = pos_;
    while (pos_ < in_.size()) {
      std::size_t lt = in_.find("</", pos_);
      if (lt == std::string_view::npos) {
        unseen_text(in_.substr(content));
        pos_ = in_.size();
        return;
      }
      std::string_view candidate = in_.substr(lt + 2, tag.size());
      pos_ = lt + 2;
      if (lower(candidate) == tag) {
        unseen_text(in_.substr(content, lt - content));
        skip_past(">");
        return;
      }
    }
  }

  // Reads past `terminator` (or to the end), keeping what it skipped.
  void unseen_until(std::string_view terminator) {
    std::size_t end = in_.find(terminator, pos_);
    if (end == std::string_view::npos) end = in_.size();
    unseen_text(in_.substr(pos_, end - pos_));
    pos_ = std::min(in_.size(), end + terminator.size());
  }

  void markup() {
    std::size_t start = pos_;
    if (in_.substr(pos_, 4) == "<!--") {
      pos_ += 4;
      unseen_until("-->");
      return;
    }
    if (in_.substr(pos_, 9) == "<![CDATA[") {
      pos_ += 9;
      unseen_until("]]>");
      return;
    }
    char next = pos_ + 1 < in_.size() ? in_[pos_ + 1] : '\0';
    if (next == '!' || next == '?') {
      skip_past(">");
      return;
    }
    bool closing = next == '/';
    std::size_t name_start = pos_ + (closing ? 2 : 1);
    if (name_start >= in_.size() || !is_alpha(in_[name_start])) {
      text_char('<');  // a literal '<', as browsers show it
      pos_ = start + 1;
      return;
    }
    std::size_t j = name_start;
    while (j < in_.size() && !is_space(in_[j]) && in_[j] != '>' && in_[j] != '/') ++j;
    std::string tag = lower(in_.substr(name_start, j - name_start));
    pos_ = j;
    attributes(closing);
    if (is_block(tag)) emit_break('\n');
    if (tag == "td" || tag == "th") emit_break('\t');
    if (tag == "pre") {
      if (closing && pre_depth_ > 0) --pre_depth_;
      if (!closing) ++pre_depth_;
    }
    if (!closing && (tag == "script" || tag == "style" || tag == "template" || tag == "noscript" ||
                     tag == "xml")) {
      raw_text(tag);
    }
  }

  // Reads attributes up to the end of the tag, keeping the ones whose value
  // a reader can see (alt, title) or that carry data in links (href).
  void attributes(bool closing) {
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (c == '>') {
        ++pos_;
        return;
      }
      if (is_space(c) || c == '/') {
        ++pos_;
        continue;
      }
      std::size_t name_start = pos_;
      while (pos_ < in_.size() && !is_space(in_[pos_]) && in_[pos_] != '=' && in_[pos_] != '>') {
        ++pos_;
      }
      std::string name = lower(in_.substr(name_start, pos_ - name_start));
      while (pos_ < in_.size() && is_space(in_[pos_])) ++pos_;
      if (pos_ >= in_.size() || in_[pos_] != '=') continue;
      ++pos_;
      while (pos_ < in_.size() && is_space(in_[pos_])) ++pos_;
      std::string_view value;
      if (pos_ < in_.size() && (in_[pos_] == '"' || in_[pos_] == '\'')) {
        char quote = in_[pos_++];
        std::size_t end = in_.find(quote, pos_);
        if (end == std::string_view::npos) end = in_.size();
        value = in_.substr(pos_, end - pos_);
        pos_ = std::min(end + 1, in_.size());
      } else {
        std::size_t v = pos_;
        while (pos_ < in_.size() && !is_space(in_[pos_]) && in_[pos_] != '>') ++pos_;
        value = in_.substr(v, pos_ - v);
      }
      if (closing) continue;
      // Inline images and references to other parts carry no text.
      bool data_uri = lower(value.substr(0, 5)) == "data:" || lower(value.substr(0, 4)) == "cid:";
      // Values a reader may see, or that carry data out of sight; not
      // style, class, id and other markup plumbing.
      const bool visible =
          std::find(kTextAttributes.begin(), kTextAttributes.end(), name) != kTextAttributes.end();
      if (visible || name.starts_with("data-") || ((name == "href" || name == "src") && !data_uri))
        words(value);
    }
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  std::string out_;
  std::string pending_;
  bool pending_space_ = false;
  int pre_depth_ = 0;
};

}  // namespace

std::string html_to_text(std::string_view html) {
  return Converter(html).run();
}

}  // namespace cordon::mime::detail
