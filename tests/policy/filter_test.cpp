// L7 filters: the seed cases of docs/configuration.md literally, then glob, parsing and
// evaluation edge cases, and a pathological mask that must stay fast.
#include "policy/filter.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

using namespace cordon::policy;

namespace {

Filter parse(std::string_view text) {
  auto r = parse_filter(text);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r.has_value() ? "" : r.error().message);
  return r.has_value() ? std::move(r).value() : Filter{};
}

// "inspected" or "ignored", the words of the seed table.
std::string message_result(std::string_view sender_filter, std::string_view recipient_filter,
                           std::string_view from, std::vector<std::string> to) {
  auto d = evaluate_filters(parse(sender_filter), parse(recipient_filter), from, to);
  return d.action == FilterAction::inspect ? "inspected" : "ignored";
}

std::string recipients_only(std::string_view filter, std::vector<std::string> to) {
  return message_result("", filter, "someone@sender.example", std::move(to));
}

std::string sender_only(std::string_view filter, std::string_view from) {
  return message_result(filter, "", from, {"someone@rcpt.example"});
}

FilterError parse_error(std::string_view text) {
  auto r = parse_filter(text);
  EXPECT_FALSE(r.has_value()) << text;
  return r.has_value() ? FilterError{} : r.error();
}

}  // namespace

// ---- the seed table, row by row ----

TEST(FilterSeed, RecipientExplicitInspectWinsForOneRecipient) {
  EXPECT_EQ(recipients_only("+bob@test1.com, -*test1.com, -*test2.com",
                            {"bob@test1.com", "amy@test1.com"}),
            "inspected");
}

TEST(FilterSeed, RecipientAllIgnoredIsIgnored) {
  EXPECT_EQ(recipients_only("+bob@test1.com, -*test1.com, -*test2.com",
                            {"amy@test1.com", "joe@test2.com"}),
            "ignored");
}

TEST(FilterSeed, RecipientUnmatchedThirdRecipientIsInspected) {
  EXPECT_EQ(recipients_only("+bob@test1.com, -*test1.com, -*test2.com",
                            {"amy@test1.com", "joe@test2.com", "sue@test3.com"}),
            "inspected");
}

TEST(FilterSeed, RecipientFinalStarIgnoresUnmatched) {
  EXPECT_EQ(recipients_only("+bob@test1.com, -*test1.com, -*test2.com, *",
                            {"amy@test1.com", "joe@test2.com", "sue@test3.com"}),
            "ignored");
}

TEST(FilterSeed, RecipientIgnoreDomainMask) {
  EXPECT_EQ(recipients_only("-*@test1.com", {"amy@test.com"}), "inspected");
  EXPECT_EQ(recipients_only("-*@test1.com", {"amy@test1.com"}), "ignored");
}

TEST(FilterSeed, SenderMasks) {
  const char* f = "+bob@test1.com, -*test1.com, -*test2.com";
  EXPECT_EQ(sender_only(f, "bob@test1.com"), "inspected");
  EXPECT_EQ(sender_only(f, "amy@test1.com"), "ignored");
  EXPECT_EQ(sender_only(f, "sue@test3.com"), "inspected");
  EXPECT_EQ(sender_only("+bob@test1.com, -*test1.com, -*test2.com, *", "sue@test3.com"), "ignored");
}

TEST(FilterSeed, SenderIgnoreDomainMask) {
  EXPECT_EQ(sender_only("-*@test1.com", "amy@test.com"), "inspected");
  EXPECT_EQ(sender_only("-*@test1.com", "amy@test1.com"), "ignored");
}

TEST(FilterSeed, SenderOrderMatters) {
  const char* f = "-bob@test1.com, +*test1.com";
  EXPECT_EQ(sender_only(f, "bob@test1.com"), "ignored");
  EXPECT_EQ(sender_only(f, "amy@test1.com"), "inspected");
  EXPECT_EQ(sender_only(f, "sue@other.com"), "inspected");
}

TEST(FilterSeed, SenderAndRecipientMustBothInspect) {
  EXPECT_EQ(message_result("+*@xyz.com, *", "-*@xyz.com", "a@xyz.com", {"b@xyz.com"}), "ignored");
  EXPECT_EQ(message_result("+*@xyz.com, *", "-*@xyz.com", "a@xyz.com", {"c@abc.com"}), "inspected");
}

TEST(FilterSeed, OrderExamplesFromTheRuleText) {
  EXPECT_EQ(sender_only("+*@test.com, -bob@test.com", "bob@test.com"), "inspected");
  const char* f = "-bob@test.com, +*@test.com, *";
  EXPECT_EQ(sender_only(f, "bob@test.com"), "ignored");
  EXPECT_EQ(sender_only(f, "amy@test.com"), "inspected");
  EXPECT_EQ(sender_only(f, "amy@else.com"), "ignored");
}

TEST(FilterSeed, TwoIgnoreDomainsFollowTheRuleNotTheContradictorySentence) {
  const char* f = "-*@xyz.com, -*@abc.com";
  EXPECT_EQ(recipients_only(f, {"a@xyz.com"}), "ignored");
  EXPECT_EQ(recipients_only(f, {"a@abc.com"}), "ignored");
  EXPECT_EQ(recipients_only(f, {"a@xyz.com", "b@abc.com"}), "ignored");
  EXPECT_EQ(recipients_only(f, {"a@xyz.com", "b@other.com"}), "inspected");
}

// ---- which mask decided ----

TEST(FilterDecision, ReportsTheDecidingMask) {
  Filter f = parse("+bob@test1.com, -*test1.com, -*test2.com, *");
  auto bob = decide(f, "bob@test1.com");
  EXPECT_EQ(bob.decided_by, DecidedBy::mask);
  EXPECT_EQ(bob.mask_index, 0u);
  EXPECT_EQ(bob.mask_text, "+bob@test1.com");
  auto joe = decide(f, "joe@test2.com");
  EXPECT_EQ(joe.mask_index, 2u);
  EXPECT_EQ(joe.mask_text, "-*test2.com");
  EXPECT_EQ(joe.action, FilterAction::ignore);
  auto sue = decide(f, "sue@test3.com");
  EXPECT_EQ(sue.decided_by, DecidedBy::default_star);
  EXPECT_EQ(sue.mask_index, 3u);
  EXPECT_EQ(explain(bob), "inspect (mask 1 \"+bob@test1.com\")");
  EXPECT_EQ(explain(sue), "ignore (no mask matched; final *, mask 4)");
  EXPECT_EQ(explain(decide(parse("-a@b"), "c@d")), "inspect (no mask matched)");
  EXPECT_EQ(explain(decide(parse(""), "c@d")), "inspect (empty filter)");
}

TEST(FilterDecision, ReportsEachRecipientAndBothSides) {
  std::vector<std::string> to = {"amy@test1.com", "sue@test3.com"};
  auto d = evaluate_filters(parse("-x@y"), parse("-*test1.com"), "bob@z.com", to);
  EXPECT_EQ(d.action, FilterAction::inspect);
  ASSERT_EQ(d.recipients.size(), 2u);
  EXPECT_EQ(d.recipients[0].action, FilterAction::ignore);
  EXPECT_EQ(d.recipients[1].decided_by, DecidedBy::no_mask_matched);
  EXPECT_EQ(d.sender.decided_by, DecidedBy::no_mask_matched);
  auto sender_ignored = evaluate_filters(parse("-*@z.com"), parse(""), "bob@z.com", to);
  EXPECT_EQ(sender_ignored.action, FilterAction::ignore);
  EXPECT_EQ(sender_ignored.recipients_action, FilterAction::inspect);
}

TEST(FilterDecision, NoRecipientsCountsAsInspectedOnTheRecipientSide) {
  auto d = evaluate_filters(parse(""), parse("-*"), "a@b", {});
  EXPECT_EQ(d.recipients_action, FilterAction::inspect);
}

// ---- matching edge cases ----

TEST(FilterMatching, EmptyFilterInspectsEverything) {
  EXPECT_TRUE(parse("").empty());
  EXPECT_TRUE(parse("  \t ").empty());
  EXPECT_EQ(message_result("", "", "a@b.c", {"d@e.f"}), "inspected");
  EXPECT_EQ(message_result(" ", " ", "<>", {"d@e.f"}), "inspected");
}

TEST(FilterMatching, CaseIsIgnoredOnBothSides) {
  EXPECT_EQ(sender_only("-BOB@Test1.COM", "bob@test1.com"), "ignored");
  EXPECT_EQ(sender_only("-bob@test1.com", "Bob@TEST1.com"), "ignored");
  EXPECT_EQ(sender_only("-*@TEST1.com", "amy@test1.COM"), "ignored");
}

TEST(FilterMatching, WhiteSpaceAroundMasksAndAfterSignsIsIgnored) {
  Filter f = parse("  - bob@test1.com ,\t+ *@test1.com  ,   *  ");
  ASSERT_EQ(f.masks.size(), 2u);
  EXPECT_TRUE(f.ignore_unmatched);
  EXPECT_EQ(f.masks[0].text, "- bob@test1.com");
  EXPECT_EQ(decide(f, "bob@test1.com").action, FilterAction::ignore);
  EXPECT_EQ(decide(f, "amy@test1.com").action, FilterAction::inspect);
  EXPECT_EQ(decide(f, "amy@test2.com").action, FilterAction::ignore);
}

TEST(FilterMatching, SeveralStarsPerMask) {
  EXPECT_EQ(sender_only("-*bob*@*.test.com", "big.bob.smith@mx.test.com"), "ignored");
  EXPECT_EQ(sender_only("-*bob*@*.test.com", "bob@test.com"), "inspected");
  EXPECT_EQ(sender_only("-a**b", "ab"), "ignored");
  EXPECT_EQ(sender_only("-*a*a*", "xaya"), "ignored");
  EXPECT_EQ(sender_only("-*a*a*", "xay"), "inspected");
}

TEST(FilterMatching, SubdomainMaskNeedsTheDot) {
  const char* f = "-*@*.example.com";
  EXPECT_EQ(sender_only(f, "a@mail.example.com"), "ignored");
  EXPECT_EQ(sender_only(f, "a@x.y.example.com"), "ignored");
  EXPECT_EQ(sender_only(f, "a@example.com"), "inspected");
  EXPECT_EQ(sender_only(f, "a@badexample.com"), "inspected");
  EXPECT_EQ(sender_only("-*.example.com", "a@mail.example.com"), "ignored");
}

TEST(FilterMatching, NullSender) {
  EXPECT_EQ(sender_only("-*@test1.com", "<>"), "inspected");
  EXPECT_EQ(sender_only("-<>", "<>"), "ignored");
  EXPECT_EQ(sender_only("-<>", ""), "ignored");
  EXPECT_EQ(sender_only("-<>", "a@b"), "inspected");
  EXPECT_EQ(sender_only("-*", "<>"), "ignored");  // `*` also matches the empty address
}

TEST(FilterMatching, AngleBracketsAndSourceRoutesAreStripped) {
  EXPECT_EQ(sender_only("-bob@test1.com", "<bob@test1.com>"), "ignored");
  EXPECT_EQ(sender_only("-bob@test1.com", " <@relay.example,@r2.example:bob@test1.com> "),
            "ignored");
}

TEST(FilterMatching, QuotedLocalParts) {
  // Unnecessary quotes name the same mailbox.
  EXPECT_EQ(sender_only("-bob@test1.com", "\"bob\"@test1.com"), "ignored");
  EXPECT_EQ(sender_only("-\"bob\"@test1.com", "bob@test1.com"), "ignored");
  // Necessary quotes are kept and matched literally; spaces and commas inside
  // quotes belong to the mask.
  EXPECT_EQ(sender_only("-*@test1.com", "\"john doe\"@test1.com"), "ignored");
  EXPECT_EQ(sender_only("-\"john doe\"@test1.com", "\"john doe\"@test1.com"), "ignored");
  EXPECT_EQ(sender_only("-\"john doe\"@test1.com", "john.doe@test1.com"), "inspected");
  Filter f = parse("-\"a,b\"@x.com, -c@x.com");
  ASSERT_EQ(f.masks.size(), 2u);
  EXPECT_EQ(decide(f, "\"a,b\"@x.com").action, FilterAction::ignore);
}

TEST(FilterMatching, ExplicitStarsAreOrdinaryMasksAnywhere) {
  EXPECT_EQ(sender_only("+*, -bob@x.com", "bob@x.com"), "inspected");
  EXPECT_EQ(sender_only("-*, +bob@x.com", "bob@x.com"), "ignored");
}

// ---- parse errors ----

TEST(FilterParse, EmptyMaskNamesItsPosition) {
  auto e = parse_error("a@b.com,, c@d.com");
  EXPECT_EQ(e.code, FilterErrorCode::empty_mask);
  EXPECT_EQ(e.mask_index, 1u);
  EXPECT_EQ(e.offset, 8u);
  EXPECT_NE(e.message.find("mask 2"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("column 9"), std::string::npos) << e.message;
  EXPECT_EQ(parse_error("a@b.com, ").code, FilterErrorCode::empty_mask);
  EXPECT_EQ(parse_error(",a@b.com").mask_index, 0u);
}

TEST(FilterParse, LoneStarOnlyLast) {
  auto e = parse_error("+a@b.com, *, -c@d.com");
  EXPECT_EQ(e.code, FilterErrorCode::lone_star_not_last);
  EXPECT_EQ(e.mask_index, 1u);
  EXPECT_EQ(e.offset, 10u);
  EXPECT_TRUE(parse("*").ignore_unmatched);
}

TEST(FilterParse, BadCharactersAndSigns) {
  auto space = parse_error("-bob @x.com");
  EXPECT_EQ(space.code, FilterErrorCode::bad_character);
  EXPECT_EQ(space.offset, 4u);
  EXPECT_EQ(parse_error("a@b, <c@d>").code, FilterErrorCode::bad_character);
  EXPECT_EQ(parse_error("a@b, <c@d>").offset, 5u);
  EXPECT_EQ(parse_error(std::string("a\x01@b")).code, FilterErrorCode::bad_character);
  EXPECT_EQ(parse_error("a@b, -").code, FilterErrorCode::sign_without_mask);
  EXPECT_EQ(parse_error("a@b, + , c@d").code, FilterErrorCode::sign_without_mask);
  auto quote = parse_error("a@b, \"oops@c, d@e");
  EXPECT_EQ(quote.code, FilterErrorCode::unbalanced_quote);
  EXPECT_EQ(quote.offset, 5u);
}

// ---- the glob matcher on its own ----

TEST(AddressMaskGlob, Basics) {
  EXPECT_TRUE(AddressMask("*").matches(""));
  EXPECT_TRUE(AddressMask("*").matches("anything"));
  EXPECT_TRUE(AddressMask("").matches(""));
  EXPECT_FALSE(AddressMask("").matches("a"));
  EXPECT_TRUE(AddressMask("abc").matches("ABC"));
  EXPECT_FALSE(AddressMask("abc").matches("abcd"));
  EXPECT_TRUE(AddressMask("a*").matches("a"));
  EXPECT_TRUE(AddressMask("*a").matches("a"));
  EXPECT_FALSE(AddressMask("a*a").matches("a"));
  EXPECT_TRUE(AddressMask("a*a").matches("aa"));
  EXPECT_TRUE(AddressMask("ab*ab").matches("abab"));
  EXPECT_FALSE(AddressMask("ab*ab").matches("aba"));
  EXPECT_TRUE(AddressMask("*aab*").matches("aaab"));  // needs the KMP fallback
  EXPECT_TRUE(AddressMask("x*abcabd*y").matches("xabcabcabdy"));
  EXPECT_TRUE(AddressMask("?@b").matches("?@b"));  // only '*' is special
  EXPECT_FALSE(AddressMask("?@b").matches("a@b"));
}

TEST(AddressMaskGlob, AgreesWithASimpleReferenceMatcher) {
  // Exponential but obviously right: used only on short strings.
  std::function<bool(std::string_view, std::string_view)> ref = [&](std::string_view p,
                                                                    std::string_view s) {
    if (p.empty()) return s.empty();
    if (p[0] == '*') return ref(p.substr(1), s) || (!s.empty() && ref(p, s.substr(1)));
    return !s.empty() && std::tolower(p[0]) == std::tolower(s[0]) && ref(p.substr(1), s.substr(1));
  };
  const std::string letters = "ab*A";
  unsigned seed = 12345;
  auto next = [&] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff; };
  for (int i = 0; i < 3000; ++i) {
    std::string p, s;
    for (unsigned n = next() % 7; n > 0; --n) p += letters[next() % 4];
    for (unsigned n = next() % 8; n > 0; --n) s += "abAB"[next() % 4];
    EXPECT_EQ(AddressMask(p).matches(s), ref(p, s)) << "pattern " << p << " subject " << s;
  }
}

TEST(AddressMaskGlob, PathologicalPatternsStayLinear) {
  std::string stars;  // *a*a*...*a*b*: exponential for a naive backtracking matcher
  for (int i = 0; i < 200; ++i) stars += "*a";
  const std::string subject(200000, 'a');
  std::string long_literal = "*" + std::string(1000, 'a') + "b*";  // O(n*m) for naive search
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(AddressMask(stars + "*b*").matches(subject));
  EXPECT_TRUE(AddressMask(stars + "*b*").matches(subject + "b"));
  EXPECT_FALSE(AddressMask(stars + "*b").matches(subject));
  EXPECT_FALSE(AddressMask(long_literal).matches(subject));
  EXPECT_TRUE(AddressMask(long_literal).matches(subject + "b"));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::milliseconds(200));
}
