// Unit tests of the SMTP command parser: good commands of every verb, and
// every error class with its exact reply code and enhanced status code.
#include <gtest/gtest.h>

#include "smtp/command.hpp"

namespace cordon::smtp {
namespace {

Command parse_ok(std::string_view line) {
  auto r = parse_command(line);
  EXPECT_TRUE(r.has_value()) << line << " -> " << (r ? "" : r.error().reply.wire());
  return r ? *r : Command{};
}

std::string parse_error(std::string_view line) {
  auto r = parse_command(line);
  EXPECT_FALSE(r.has_value()) << line;
  return r ? "" : r.error().reply.wire();
}

TEST(CommandParser, ParsesEhloAndHeloCaseInsensitively) {
  auto c = parse_ok("ehlo client.example");
  EXPECT_EQ(c.verb, Verb::ehlo);
  EXPECT_EQ(c.argument, "client.example");
  EXPECT_EQ(parse_ok("HELO [192.0.2.1]").argument, "[192.0.2.1]");
}

TEST(CommandParser, RefusesEhloWithoutDomain) {
  EXPECT_EQ(parse_error("EHLO"), "501 5.5.4 Syntax: EHLO hostname\r\n");
}

TEST(CommandParser, ParsesMailWithAllParameters) {
  auto c =
      parse_ok("MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x+2By");
  EXPECT_EQ(c.verb, Verb::mail);
  EXPECT_EQ(c.address, "a@b.example");
  ASSERT_TRUE(c.mail.size.has_value());
  EXPECT_EQ(*c.mail.size, 1000u);
  EXPECT_EQ(c.mail.body, Body::eight_bit_mime);
  EXPECT_TRUE(c.mail.smtputf8);
  EXPECT_EQ(c.mail.ret, DsnRet::hdrs);
  EXPECT_EQ(c.mail.envid, "x+2By");
}

TEST(CommandParser, AcceptsNullSenderButNotNullRecipient) {
  EXPECT_EQ(parse_ok("MAIL FROM:<>").address, "");
  EXPECT_EQ(parse_error("RCPT TO:<>"), "501 5.1.3 Bad recipient address syntax\r\n");
}

TEST(CommandParser, AcceptsQuotedLocalPartsAndAddressLiterals) {
  EXPECT_EQ(parse_ok("RCPT TO:<\"john doe\"@example.com>").address, "\"john doe\"@example.com");
  EXPECT_EQ(parse_ok("RCPT TO:<\"a\\\"b\"@example.com>").address, "\"a\\\"b\"@example.com");
  EXPECT_EQ(parse_ok("RCPT TO:<u@[192.0.2.7]>").address, "u@[192.0.2.7]");
  EXPECT_EQ(parse_ok("RCPT TO:<u@[IPv6:2001:db8::1]>").address, "u@[IPv6:2001:db8::1]");
  EXPECT_EQ(parse_ok("RCPT TO:<Postmaster>").address, "Postmaster");
}

TEST(CommandParser, DropsSourceRoutesAndToleratesSpaceAfterColon) {
  EXPECT_EQ(parse_ok("RCPT TO:<@relay.example,@r2.example:u@d.example>").address, "u@d.example");
  EXPECT_EQ(parse_ok("MAIL FROM: <a@b.example>").address, "a@b.example");
}

TEST(CommandParser, RefusesBadPaths) {
  const std::string bad_sender = "501 5.1.7 Bad sender address syntax\r\n";
  EXPECT_EQ(parse_error("MAIL FROM:a@b.example"), bad_sender);
  EXPECT_EQ(parse_error("MAIL FROM:<a@b.example"), bad_sender);
  EXPECT_EQ(parse_error("MAIL FROM:<a..b@example.com>"), bad_sender);
  EXPECT_EQ(parse_error("MAIL FROM:<a@-bad.example>"), bad_sender);
  EXPECT_EQ(parse_error("MAIL FROM:<a@[300.1.1.1]>"), bad_sender);
  EXPECT_EQ(parse_error("MAIL FROM:<noatsign>"), bad_sender);
  EXPECT_EQ(parse_error("MAIL FROM:<" + std::string(65, 'x') + "@a.example>"), bad_sender);
  EXPECT_EQ(parse_error("RCPT TO:<a@b.example>junk"), "501 5.1.3 Bad recipient address syntax\r\n");
}

TEST(CommandParser, RefusesMissingFromOrTo) {
  EXPECT_EQ(parse_error("MAIL <a@b.example>"), "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
  EXPECT_EQ(parse_error("RCPT FROM:<a@b.example>"), "501 5.5.4 Syntax: RCPT TO:<address>\r\n");
}

TEST(CommandParser, RefusesUnknownParametersWith555) {
  EXPECT_EQ(parse_error("MAIL FROM:<a@b.example> FOO=1"),
            "555 5.5.4 Unsupported parameter FOO\r\n");
  EXPECT_EQ(parse_error("RCPT TO:<a@b.example> SIZE=1"),
            "555 5.5.4 Unsupported parameter SIZE\r\n");
}

TEST(CommandParser, RefusesBadParameterValuesWith501) {
  EXPECT_EQ(parse_error("MAIL FROM:<a@b.example> SIZE=abc"), "501 5.5.4 Bad SIZE parameter\r\n");
  EXPECT_EQ(parse_error("MAIL FROM:<a@b.example> BODY=9BIT"), "501 5.5.4 Bad BODY parameter\r\n");
  EXPECT_EQ(parse_error("MAIL FROM:<a@b.example> RET=ALL"), "501 5.5.4 Bad RET parameter\r\n");
  EXPECT_EQ(parse_error("MAIL FROM:<a@b.example> SIZE=1 SIZE=2"),
            "501 5.5.4 Duplicate parameter\r\n");
  EXPECT_EQ(parse_error("RCPT TO:<a@b.example> NOTIFY=NEVER,SUCCESS"),
            "501 5.5.4 Bad NOTIFY parameter\r\n");
  EXPECT_EQ(parse_error("RCPT TO:<a@b.example> ORCPT=nosemicolon"),
            "501 5.5.4 Bad ORCPT parameter\r\n");
}

TEST(CommandParser, RefusesBinaryMimeWith504) {
  EXPECT_EQ(parse_error("MAIL FROM:<a@b.example> BODY=BINARYMIME"),
            "504 5.5.4 BODY=BINARYMIME is not supported\r\n");
}

TEST(CommandParser, ParsesDsnRecipientParameters) {
  auto c = parse_ok("RCPT TO:<a@b.example> NOTIFY=success,failure ORCPT=rfc822;a@b.example");
  EXPECT_EQ(c.rcpt.notify, "SUCCESS,FAILURE");
  EXPECT_EQ(c.rcpt.orcpt, "rfc822;a@b.example");
}

TEST(CommandParser, RefusesGarbageAndUnknownVerbsWith500) {
  const std::string unrecognized = "500 5.5.2 Syntax error, command unrecognized\r\n";
  EXPECT_EQ(parse_error(""), unrecognized);
  EXPECT_EQ(parse_error("FOO bar"), unrecognized);
  EXPECT_EQ(parse_error("MAILFROM:<a@b>"), unrecognized);
  EXPECT_EQ(parse_error(std::string("NOOP\0x", 6)), unrecognized);
  EXPECT_EQ(parse_error("NOOP\rRSET"), unrecognized);
}

// CR or LF in an envelope address would split the next hop's command in
// two; every control character inside a path is an address error.
TEST(CommandParser, RefusesControlCharactersInPathsAsAddressErrors) {
  const std::string bad_sender = "501 5.1.7 Bad sender address syntax\r\n";
  const std::string bad_recipient = "501 5.1.3 Bad recipient address syntax\r\n";
  for (std::string inside : {std::string("\r"), std::string("\n"), std::string("\0", 1),
                             std::string("\t"), std::string("\x1b"), std::string("\x7f")}) {
    EXPECT_EQ(parse_error("RCPT TO:<victim@example.com" + inside + "RCPT TO:<evil@example.com>"),
              bad_recipient);
    EXPECT_EQ(parse_error("RCPT TO:<a" + inside + "b@example.com>"), bad_recipient);
    EXPECT_EQ(parse_error("RCPT TO:<\"a" + inside + "b\"@example.com>"), bad_recipient);
    EXPECT_EQ(parse_error("RCPT TO:<a@exam" + inside + "ple.com>"), bad_recipient);
    EXPECT_EQ(parse_error("MAIL FROM:<a" + inside + "b@example.com>"), bad_sender);
    EXPECT_EQ(parse_command("RCPT TO:<a" + inside + "b@example.com>").error().code,
              CommandErrorCode::bad_address);
  }
  // Outside the path the line is garbage, as before.
  EXPECT_EQ(parse_error("RCPT TO:<a@example.com> NOTIFY=NEVER\r"),
            "500 5.5.2 Syntax error, command unrecognized\r\n");
}

TEST(CommandParser, ReportsBdatAndExpnAsNotImplemented) {
  EXPECT_EQ(parse_command("BDAT 100 LAST").error().code, CommandErrorCode::not_implemented);
  EXPECT_EQ(parse_error("BDAT 100 LAST").substr(0, 10), "502 5.5.1 ");
  EXPECT_EQ(parse_error("EXPN list"), "502 5.5.1 EXPN is not supported\r\n");
}

TEST(CommandParser, RefusesArgumentsToArgumentlessVerbs) {
  EXPECT_EQ(parse_error("DATA now"), "501 5.5.4 Syntax: no arguments allowed\r\n");
  EXPECT_EQ(parse_error("STARTTLS x"), "501 5.5.4 Syntax: no arguments allowed\r\n");
  EXPECT_EQ(parse_ok("QUIT").verb, Verb::quit);
  EXPECT_EQ(parse_ok("NOOP anything").verb, Verb::noop);
  EXPECT_EQ(parse_ok("VRFY bob").argument, "bob");
  EXPECT_EQ(parse_ok("HELP").verb, Verb::help);
  EXPECT_EQ(parse_ok("RSET").verb, Verb::rset);
  EXPECT_EQ(parse_ok("starttls").verb, Verb::starttls);
}

TEST(CommandParser, AcceptsUtf8MailboxesSyntactically) {
  EXPECT_EQ(parse_ok("RCPT TO:<j\xC3\xB6rg@b\xC3\xBC"
                     "cher.example>")
                .address,
            "j\xC3\xB6rg@b\xC3\xBC"
            "cher.example");
  EXPECT_FALSE(is_valid_mailbox("j\xC3\xB6rg@example.com", false));
}

TEST(CommandParser, FormatsOnlyOfferedParameters) {
  MailParams p;
  p.size = 42;
  p.body = Body::eight_bit_mime;
  p.smtputf8 = true;
  p.ret = DsnRet::full;
  p.envid = "e1";
  EXPECT_EQ(format_mail_params(p), " SIZE=42 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=e1");
  EXPECT_EQ(format_mail_params(p, {true, false, false, false}), " SIZE=42");
  RcptParams r{"NEVER", "rfc822;x@y"};
  EXPECT_EQ(format_rcpt_params(r), " NOTIFY=NEVER ORCPT=rfc822;x@y");
  EXPECT_EQ(format_rcpt_params(r, {true, true, true, false}), "");
  auto round_trip = parse_ok("MAIL FROM:<a@b.example>" + format_mail_params(p));
  EXPECT_EQ(*round_trip.mail.size, 42u);
  EXPECT_EQ(round_trip.mail.envid, "e1");
}

TEST(CommandParser, ParsesXforwardAttributesDecodedAndUpperCased) {
  auto c = parse_ok("xforward name=mx.client.example ADDR=IPV6:2001:db8::5 helo=[UNAVAILABLE]");
  EXPECT_EQ(c.verb, Verb::xforward);
  ASSERT_EQ(c.xforward.size(), 3u);
  EXPECT_EQ(c.xforward[0].name, "NAME");
  EXPECT_EQ(c.xforward[0].value, "mx.client.example");
  EXPECT_EQ(c.xforward[1].value, "2001:db8::5");  // the IPV6: prefix is the wire form only
  EXPECT_EQ(c.xforward[2].value, "");             // unavailable
  EXPECT_EQ(parse_ok("XFORWARD IDENT=4Q+2D1").xforward[0].value, "4Q-1");  // xtext
}

TEST(CommandParser, RefusesXforwardThatIsMalformedOrCouldForgeALogLine) {
  EXPECT_EQ(parse_error("XFORWARD"), "501 5.5.4 Bad XFORWARD syntax: no attributes\r\n");
  EXPECT_EQ(parse_error("XFORWARD ADDR"),
            "501 5.5.4 Bad XFORWARD syntax: attribute=value expected\r\n");
  EXPECT_EQ(parse_error("XFORWARD COLOUR=blue"),
            "501 5.5.4 Bad XFORWARD syntax: unknown attribute COLOUR\r\n");
  // A decoded space or CR/LF would split a log line or a header.
  EXPECT_EQ(parse_error("XFORWARD HELO=a+20b"),
            "501 5.5.4 Bad XFORWARD syntax: bad character in HELO\r\n");
  EXPECT_EQ(parse_error("XFORWARD HELO=a+0D+0Ab"),
            "501 5.5.4 Bad XFORWARD syntax: bad character in HELO\r\n");
  EXPECT_EQ(parse_error("XFORWARD NAME=" + std::string(256, 'a')),
            "501 5.5.4 Bad XFORWARD syntax: bad value length\r\n");
}

TEST(CommandParser, FormatsXforwardForOfferedAttributesWithinTheLineLimit) {
  std::vector<XforwardAttribute> attributes{
      {"NAME", ""}, {"ADDR", "2001:db8::5"}, {"HELO", "a=b"}, {"IDENT", "Q1"}};
  auto lines = format_xforward(attributes, {"NAME", "ADDR", "HELO"});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "XFORWARD NAME=[UNAVAILABLE] ADDR=IPV6:2001:db8::5 HELO=a+3Db");
  EXPECT_TRUE(format_xforward(attributes, {}).empty());
  std::vector<XforwardAttribute> long_ones{{"NAME", std::string(250, 'n')},
                                           {"HELO", std::string(250, 'h')},
                                           {"IDENT", std::string(200, 'i')}};
  auto split = format_xforward(long_ones, {"NAME", "HELO", "IDENT"});
  ASSERT_EQ(split.size(), 2u);
  for (const auto& line : split) EXPECT_LE(line.size() + 2, 512u);
}

}  // namespace
}  // namespace cordon::smtp
