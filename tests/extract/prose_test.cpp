// looks_like_prose, the test that lets plain text skip libmagic's soft
// magic: the same answers as the byte-at-a-time reading it replaced (kept
// here as the reference), on hand-picked and random texts.
#include <gtest/gtest.h>

#include <cctype>
#include <random>

#include "extract/detail/walker.hpp"

namespace {

bool reference(std::string_view text) {
  const auto is_alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (text.empty() || !is_alnum(text.front())) return false;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '<' || c == 0x7F || (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f'))
      return false;
  }
  std::size_t name = 0;
  while (name < text.size() && (is_alnum(text[name]) || text[name] == '-' || text[name] == '_'))
    ++name;
  if ((name < text.size() && text[name] == ':') || text.starts_with("From ")) return false;
  static constexpr std::string_view kLineStarts[] = {
      "#",        "%",        ".",       "\\",       "@",     "--- ",     "+++ ",   "-----BEGIN",
      "diff ",    "Index:",   "begin ",  "import ",  "from ", "package ", "def ",   "class ",
      "function", "use ",     "module ", "program ", "sub ",  "var ",     "let ",   "const ",
      "public ",  "private ", "static ", "struct ",  "int ",  "void ",    "BEGIN:", "[",
      "{",        "(",        "/*",      "//",       ";"};
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    for (std::string_view start : kLineStarts)
      if (!line.empty() && line.front() == start.front() && line.starts_with(start)) return false;
    pos = end + 1;
  }
  return true;
}

using cordon::extract::detail::looks_like_prose;

TEST(Prose, Examples) {
  EXPECT_TRUE(looks_like_prose("Quarterly figures, as discussed.\nRegards\n"));
  EXPECT_FALSE(looks_like_prose("Subject: hi\n\nbody"));
  EXPECT_FALSE(looks_like_prose("Some text\n  import os\n"));
  EXPECT_FALSE(looks_like_prose(std::string(40, 'a') + "<b>" + std::string(40, 'a')));
  EXPECT_FALSE(looks_like_prose(std::string(33, 'a') + '\x01'));
  EXPECT_FALSE(looks_like_prose(std::string(17, 'a') + '\x7f' + std::string(20, 'a')));
  EXPECT_TRUE(looks_like_prose(std::string(31, 'a') + "\t\r\f\n" + std::string(31, 'b')));
}

TEST(Prose, SameAsTheReferenceOnRandomTexts) {
  // Mostly prose, with now and then a byte or a line start that is not.
  const std::string words[] = {
      "alpha ", "beta ", "gamma\n", "delta, ", "\n  import x\n", "<",    "\x01", "\x7f", "\t",
      "\f",     "\n#",   "é",       ": ",      "\x1b",           "\r\n", "\x80"};
  std::mt19937 rng(4242);
  for (int i = 0; i < 20000; ++i) {
    std::string text = rng() % 8 ? "Text " : "";
    const int n = static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) {
      const auto pick = rng() % 64;
      text += pick < 4 ? words[rng() % std::size(words)] : words[pick % 4];
    }
    ASSERT_EQ(looks_like_prose(text), reference(text)) << "text: " << text;
  }
}

}  // namespace
