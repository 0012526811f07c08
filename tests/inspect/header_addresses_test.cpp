// The addresses an offline scan takes from From/To/Cc/Bcc: exactly what the
// regex [^\s<>,;:"()\[\]]+@[^\s<>,;:"()\[\]]+ finds (the reading the
// envelope had before it was written without std::regex), checked against
// that regex on hand-picked and random header values.
#include <gtest/gtest.h>

#include <random>
#include <regex>

#include "inspect/detail/incident.hpp"

namespace {

std::vector<std::string> regex_addresses(const std::string& value) {
  static const std::regex addr(R"([^\s<>,;:"()\[\]]+@[^\s<>,;:"()\[\]]+)");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(value.begin(), value.end(), addr);
       it != std::sregex_iterator(); ++it)
    out.push_back(it->str());
  return out;
}

using cordon::inspect::detail::addresses_in;

TEST(HeaderAddresses, Examples) {
  EXPECT_EQ(addresses_in("Bob <bob@example.com>, amy@test1.com"),
            (std::vector<std::string>{"bob@example.com", "amy@test1.com"}));
  EXPECT_EQ(addresses_in("\"Smith, J\" <j@x.org>; k@y"),
            (std::vector<std::string>{"j@x.org", "k@y"}));
  EXPECT_EQ(addresses_in("a@b@c @x y@ @ q@@r"), (std::vector<std::string>{"a@b@c", "q@@r"}));
  EXPECT_TRUE(addresses_in("no addresses here").empty());
  EXPECT_TRUE(addresses_in("").empty());
}

TEST(HeaderAddresses, SameAsTheRegexOnRandomValues) {
  const std::string alphabet = "ab@@ \t\r\n\v\f<>,;:\"()[]x.\xC3\xA9\x80";
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    std::string value;
    const int length = static_cast<int>(rng() % 24);
    for (int k = 0; k < length; ++k) value.push_back(alphabet[rng() % alphabet.size()]);
    ASSERT_EQ(addresses_in(value), regex_addresses(value)) << "value: " << value;
  }
}

}  // namespace
