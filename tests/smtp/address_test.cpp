// Unit tests of the mailbox parser used for relay decisions: the split into
// local part and domain (quoted local parts, quoted-pairs, source routes),
// the errors, and the routing that Postfix's reject_unauth_destination
// refuses with allow_untrusted_routing = no.
#include <gtest/gtest.h>

#include "smtp/address.hpp"
#include "smtp/command.hpp"

namespace cordon::smtp {
namespace {

Mailbox parse_ok(std::string_view text) {
  auto r = parse_mailbox(text);
  EXPECT_TRUE(r.has_value()) << text << " -> " << (r ? "" : to_string(r.error()));
  return r ? *r : Mailbox{};
}

AddressError parse_error(std::string_view text) {
  auto r = parse_mailbox(text);
  EXPECT_FALSE(r.has_value()) << text;
  return r ? AddressError::empty : r.error();
}

TEST(AddressParser, SplitsAnOrdinaryMailbox) {
  auto m = parse_ok("user@corp.example");
  EXPECT_EQ(m.local_part, "user");
  EXPECT_EQ(m.local_part_written, "user");
  EXPECT_EQ(m.domain, "corp.example");
  EXPECT_FALSE(m.quoted);
  EXPECT_TRUE(m.source_route.empty());
  EXPECT_FALSE(has_routing(m));
}

TEST(AddressParser, OrdinaryAddressesCarryNoRouting) {
  for (const char* text :
       {"user+tag@corp.example", "\"john doe\"@corp.example", "first.last@corp.example",
        "o'brien@corp.example", "u@[192.0.2.1]", "u@[IPv6:2001:db8::1]",
        "j\xC3\xB6rg@b\xC3\xBC"
        "cher.example"}) {
    auto m = parse_ok(text);
    EXPECT_EQ(routing_of(m), kRoutingNone) << text;
  }
}

TEST(AddressParser, DecodesQuotedLocalParts) {
  auto m = parse_ok("\"john doe\"@corp.example");
  EXPECT_TRUE(m.quoted);
  EXPECT_EQ(m.local_part, "john doe");
  EXPECT_EQ(m.local_part_written, "\"john doe\"");
  EXPECT_EQ(m.domain, "corp.example");
  auto escaped = parse_ok("\"a\\\"b\\\\c\"@corp.example");
  EXPECT_EQ(escaped.local_part, "a\"b\\c");
}

TEST(AddressParser, TakesAngleBracketsAndSourceRoutes) {
  auto m = parse_ok("<@a.example,@b.example:user@c.example>");
  EXPECT_EQ(m.source_route, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(m.local_part, "user");
  EXPECT_EQ(m.domain, "c.example");
  EXPECT_EQ(routing_of(m), kRoutingSourceRoute);
}

// The five forms Postfix's reject_unauth_destination refuses for a relay
// domain, each flagged with the routing it carries.
TEST(AddressParser, FlagsEveryRoutingFormPostfixRefuses) {
  struct Case {
    const char* text;
    unsigned flags;
  };
  for (const Case& c : {Case{"user%ext.example@corp.example", kRoutingPercent},
                        Case{"\"user@ext.example\"@corp.example", kRoutingAtSign},
                        Case{"\"user%ext.example\"@corp.example", kRoutingPercent},
                        Case{"ext.example!user@corp.example", kRoutingBang},
                        Case{"user!ext.example@corp.example", kRoutingBang}}) {
    auto m = parse_ok(c.text);
    EXPECT_EQ(m.domain, "corp.example") << c.text;
    EXPECT_EQ(routing_of(m), c.flags) << c.text;
    EXPECT_TRUE(has_routing(m)) << c.text;
  }
}

TEST(AddressParser, QuotingDoesNotHideRouting) {
  EXPECT_EQ(routing_of(parse_ok("\"ext.example!user\"@corp.example")), kRoutingBang);
  EXPECT_EQ(routing_of(parse_ok("\"u\\@x\"@corp.example")), kRoutingAtSign);
  EXPECT_EQ(routing_of(parse_ok("\"a%b!c@d\"@corp.example")),
            kRoutingPercent | kRoutingBang | kRoutingAtSign);
  EXPECT_EQ(routing_of(parse_ok("@relay.example:a%b@corp.example")),
            kRoutingPercent | kRoutingSourceRoute);
}

TEST(AddressParser, RefusesMalformedAddresses) {
  EXPECT_EQ(parse_error(""), AddressError::empty);
  EXPECT_EQ(parse_error("<>"), AddressError::empty);
  EXPECT_EQ(parse_error("user"), AddressError::missing_domain);
  EXPECT_EQ(parse_error("user@"), AddressError::bad_domain);
  EXPECT_EQ(parse_error("@corp.example"), AddressError::bad_source_route);
  EXPECT_EQ(parse_error("@relay.example:@corp.example"), AddressError::bad_local_part);
  EXPECT_EQ(parse_error("a..b@corp.example"), AddressError::bad_local_part);
  EXPECT_EQ(parse_error("\"unterminated@corp.example"), AddressError::missing_domain);
  EXPECT_EQ(parse_error("\"a\"b@corp.example"), AddressError::missing_domain);
  EXPECT_EQ(parse_error("a@b@corp.example"), AddressError::bad_domain);
  EXPECT_EQ(parse_error("user@-bad.example"), AddressError::bad_domain);
  EXPECT_EQ(parse_error("user@[300.1.1.1]"), AddressError::bad_domain);
  EXPECT_EQ(parse_error(std::string(65, 'x') + "@corp.example"), AddressError::local_part_too_long);
  EXPECT_EQ(parse_error("u@" + std::string(250, 'a') + ".example"), AddressError::too_long);
  EXPECT_EQ(parse_error("<user@corp.example"), AddressError::bad_local_part);
}

TEST(AddressParser, RefusesEveryControlCharacter) {
  for (std::string text :
       {std::string("us\rer@corp.example"), std::string("user@corp.exa\nmple"),
        std::string("us\0er@corp.example", 18), std::string("\"a\tb\"@c.example"),
        std::string("\"a\\\rb\"@c.example"), std::string("a\x7f@c.example")}) {
    EXPECT_EQ(parse_error(text), AddressError::control_character) << text;
  }
}

TEST(AddressParser, Utf8NeedsPermission) {
  EXPECT_FALSE(parse_mailbox("j\xC3\xB6rg@corp.example", false).has_value());
  EXPECT_TRUE(parse_mailbox("jorg@corp.example", false).has_value());
}

TEST(AddressParser, CommandParserAgreesOnValidity) {
  EXPECT_TRUE(is_valid_mailbox("\"john doe\"@corp.example"));
  EXPECT_FALSE(is_valid_mailbox("<user@corp.example>"));
  EXPECT_FALSE(is_valid_mailbox("@a.example:user@corp.example"));
  EXPECT_FALSE(is_valid_mailbox(std::string("us\0er@corp.example", 18)));
}

}  // namespace
}  // namespace cordon::smtp
