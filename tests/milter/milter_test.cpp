// Unit tests of the milter codec (frames, payloads, reply text) and of the
// session state machine, driven with frames as an MTA sends them.
#include <gtest/gtest.h>

#include "milter/codec.hpp"
#include "milter/server.hpp"
#include "milter/session.hpp"

namespace cordon::milter {
namespace {

std::string be32(std::uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

std::string z(std::string_view s) {
  return std::string(s) + '\0';
}

// Every frame in `bytes`, decoded.
std::vector<Frame> frames(std::string_view bytes) {
  FrameDecoder d(1 << 20);
  d.feed(bytes);
  std::vector<Frame> out;
  for (;;) {
    auto f = d.next();
    EXPECT_TRUE(f.has_value());
    if (!f || !*f) break;
    out.push_back(std::move(**f));
  }
  EXPECT_EQ(d.buffered(), 0u);
  return out;
}

TEST(MilterCodec, EncodesLengthCommandAndData) {
  EXPECT_EQ(encode('c'), std::string("\0\0\0\1c", 5));
  EXPECT_EQ(encode('y', "ab"), std::string("\0\0\0\3yab", 7));
}

TEST(MilterCodec, DecoderWaitsForACompleteFrameFedByteByByte) {
  const std::string wire = encode('B', "hello") + encode('E');
  FrameDecoder d(1024);
  std::vector<Frame> got;
  for (char c : wire) {
    d.feed(std::string_view(&c, 1));
    auto f = d.next();
    ASSERT_TRUE(f.has_value());
    if (*f) got.push_back(**f);
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].code, 'B');
  EXPECT_EQ(got[0].data, "hello");
  EXPECT_EQ(got[1].code, 'E');
  EXPECT_EQ(got[1].data, "");
}

TEST(MilterCodec, OversizedLengthIsRefusedBeforeItsDataArrives) {
  FrameDecoder d(100);
  d.feed(be32(101));
  auto f = d.next();
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error(), FrameError::oversized);
  EXPECT_EQ(d.refused_length(), 101u);
  FrameDecoder ok(100);
  ok.feed(be32(100));
  auto pending = ok.next();
  ASSERT_TRUE(pending.has_value());
  EXPECT_FALSE(*pending);
}

TEST(MilterCodec, ZeroLengthFrameIsAnError) {
  FrameDecoder d(100);
  d.feed(be32(0));
  auto f = d.next();
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error(), FrameError::empty);
}

TEST(MilterCodec, OptionNegotiationRoundTrips) {
  auto wire = encode_optneg({6, 0x1ff, 0x1fffff});
  auto [f] = std::array<Frame, 1>{frames(wire).at(0)};
  EXPECT_EQ(f.code, 'O');
  auto n = decode_optneg(f.data);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->version, 6u);
  EXPECT_EQ(n->actions, 0x1ffu);
  EXPECT_EQ(n->protocol, 0x1fffffu);
  EXPECT_FALSE(decode_optneg("short").has_value());
}

TEST(MilterCodec, MacrosKeepTheirCommandAndPairs) {
  auto m = decode_macros("M" + z("i") + z("4F2A") + z("{auth_authen}") + z("alice"));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->for_command, 'M');
  ASSERT_EQ(m->values.size(), 2u);
  EXPECT_EQ(m->values[1].first, "{auth_authen}");
  EXPECT_EQ(m->values[1].second, "alice");
}

TEST(MilterCodec, EmptyMacroPacketsAreValid) {
  auto none = decode_macros("");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->values.empty());
  auto only_command = decode_macros("C");
  ASSERT_TRUE(only_command.has_value());
  EXPECT_EQ(only_command->for_command, 'C');
  EXPECT_TRUE(only_command->values.empty());
}

TEST(MilterCodec, MacroWithoutValueIsRefused) {
  auto m = decode_macros("M" + z("i") + "unterminated");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error(), PayloadError::unterminated);
}

TEST(MilterCodec, ConnectCarriesHostFamilyPortAndAddress) {
  auto c = decode_connect(z("mx.example") + "4" + std::string("\x01\xbb", 2) + z("192.0.2.7"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->hostname, "mx.example");
  EXPECT_EQ(c->family, '4');
  EXPECT_EQ(c->port, 443);
  EXPECT_EQ(c->address, "192.0.2.7");
  auto unknown = decode_connect(z("host") + "U");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->family, 'U');
  EXPECT_FALSE(decode_connect(z("host") + "4" + "\x01").has_value());
}

TEST(MilterCodec, ReplyCodeDoublesPercentAndDropsTheLastCrlf) {
  EXPECT_EQ(reply_code_text("550-5.7.0 Incident ID: 7\r\n550 5.7.0 100% sure\r\n"),
            "550-5.7.0 Incident ID: 7\r\n550 5.7.0 100%% sure");
  auto [f] = std::array<Frame, 1>{frames(encode_reply_code("451 4.3.0 a%b")).at(0)};
  EXPECT_EQ(f.code, 'y');
  EXPECT_EQ(f.data, z("451 4.3.0 a%%b"));
}

TEST(MilterCodec, HeaderAndRecipientChangesAreNulTerminated) {
  auto f =
      frames(encode_insert_header(0, "X-DLP", " yes") + encode_change_header(1, "Subject", "") +
             encode_delete_recipient("bob@ext.test") + encode_quarantine("incident 4"));
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].code, 'i');
  EXPECT_EQ(f[0].data, be32(0) + z("X-DLP") + z(" yes"));
  EXPECT_EQ(f[1].code, 'm');
  EXPECT_EQ(f[1].data, be32(1) + z("Subject") + z(""));
  EXPECT_EQ(f[2].code, '-');
  EXPECT_EQ(f[2].data, z("bob@ext.test"));
  EXPECT_EQ(f[3].code, 'q');
  EXPECT_EQ(f[3].data, z("incident 4"));
}

// --- the session -----------------------------------------------------------

constexpr std::uint32_t kAllActions = 0x1ff;
constexpr std::uint32_t kAllSteps = 0x1fffff;

struct Mta {
  Session session{SessionOptions{}};
  std::string sent;  // what the session wrote

  Step send(char code, std::string data = {}) {
    Step s = session.on_frame(Frame{code, std::move(data)});
    sent += s.output;
    return s;
  }
  OptionNegotiation negotiate(std::uint32_t version, std::uint32_t actions, std::uint32_t steps) {
    Step s = send(cmd::optneg, encode_optneg({version, actions, steps}).substr(5));
    auto f = frames(s.output);
    EXPECT_EQ(f.size(), 1u);
    auto n = decode_optneg(f.at(0).data);
    EXPECT_TRUE(n.has_value());
    sent.clear();
    return *n;
  }
  // A message up to its end; returns the end-of-message step.
  Step message(const std::vector<std::pair<std::string, std::string>>& headers, std::string body,
               std::vector<std::string> rcpts = {"<bob@ext.test>"}) {
    send(cmd::macro, "M" + z("i") + z("QID1") + z("{auth_authen}") + z("alice"));
    send(cmd::mail, z("<alice@corp.test>") + z("SIZE=100"));
    for (auto& r : rcpts) send(cmd::rcpt, z(r));
    send(cmd::data);
    for (auto& [n, v] : headers) send(cmd::header, z(n) + z(v));
    send(cmd::eoh);
    send(cmd::body, body);
    return send(cmd::body_eob);
  }
};

TEST(MilterSession, NegotiatesOnlyWhatTheMtaOffers) {
  Mta mta;
  auto n = mta.negotiate(6, kAllActions, kAllSteps);
  EXPECT_EQ(n.version, 6u);
  EXPECT_EQ(n.actions, action::add_headers | action::change_headers | action::add_rcpt |
                           action::del_rcpt | action::quarantine);
  EXPECT_TRUE(n.protocol & step::nr_rcpt);
  EXPECT_TRUE(n.protocol & step::nr_body);
  EXPECT_TRUE(n.protocol & step::header_leading_space);
  EXPECT_FALSE(n.protocol & step::no_body);
  EXPECT_FALSE(n.protocol & step::no_headers);

  Mta old;
  auto o = old.negotiate(2, action::add_headers, step::no_helo);
  EXPECT_EQ(o.version, 2u);
  EXPECT_EQ(o.actions, action::add_headers);
  EXPECT_EQ(o.protocol, 0u);
}

TEST(MilterSession, NoReplyIsSentForStepsNegotiatedWithoutOne) {
  Mta mta;
  mta.negotiate(6, kAllActions, kAllSteps);
  mta.send(cmd::macro, "C" + z("j") + z("mx.test"));
  mta.send(cmd::connect, z("client.test") + "4" + std::string("\0\x19", 2) + z("192.0.2.1"));
  mta.send(cmd::helo, z("client.test"));
  Step end = mta.message({{"Subject", " hi"}}, "body\r\n");
  EXPECT_EQ(mta.sent, "");
  ASSERT_TRUE(end.message);
}

TEST(MilterSession, WithoutNoReplyFlagsEveryStepIsAnsweredContinue) {
  Mta mta;
  mta.negotiate(2, kAllActions, 0);
  mta.send(cmd::connect, z("client.test") + "U");
  Step end = mta.message({{"Subject", "hi"}}, "body\r\n");
  // connect, mail, rcpt, data, header, eoh, body: seven continues.
  auto f = frames(mta.sent);
  EXPECT_EQ(f.size(), 7u);
  for (auto& one : f) EXPECT_EQ(one.code, reply::continue_);
  ASSERT_TRUE(end.message);
}

TEST(MilterSession, MessageCarriesEnvelopeMacrosAndContentAsWritten) {
  Mta mta;
  mta.negotiate(6, kAllActions, kAllSteps);
  mta.send(cmd::macro, "C" + z("{client_addr}") + z("192.0.2.9"));
  mta.send(cmd::connect, z("client.test") + "4" + std::string("\0\x19", 2) + z("192.0.2.9"));
  Step end = mta.message({{"Subject", " hello"}, {"X-Folded", " one\n\ttwo"}}, "line 1\r\n",
                         {"<bob@ext.test>", "<amy@ext.test>"});
  ASSERT_TRUE(end.message);
  const Message& m = *end.message;
  EXPECT_EQ(m.sender, "alice@corp.test");
  EXPECT_EQ(m.recipients, (std::vector<std::string>{"bob@ext.test", "amy@ext.test"}));
  EXPECT_EQ(m.queue_id(), "QID1");
  EXPECT_EQ(m.macro("auth_authen"), "alice");
  EXPECT_EQ(m.macro("{auth_authen}"), "alice");
  EXPECT_EQ(m.client_address, "192.0.2.9");
  EXPECT_EQ(m.content, "Subject: hello\r\nX-Folded: one\r\n\ttwo\r\n\r\nline 1\r\n");
  ASSERT_EQ(m.headers.size(), 2u);
  EXPECT_EQ(m.headers[0].second, "hello");
  EXPECT_FALSE(m.protocol_doubt);
}

TEST(MilterSession, WithoutLeadingSpaceTheValueGetsOne) {
  Mta mta;
  mta.negotiate(6, kAllActions, kAllSteps & ~step::header_leading_space);
  Step end = mta.message({{"Subject", "hello"}}, "x\r\n");
  EXPECT_EQ(end.message->content, "Subject: hello\r\n\r\nx\r\n");
}

TEST(MilterSession, FinishSendsChangesThenQuarantineThenAccept) {
  Mta mta;
  mta.negotiate(6, kAllActions, kAllSteps);
  mta.message({{"Subject", " hi"}}, "x\r\n");
  Decision d;
  d.changes = {{Change::Kind::insert_header, 0, "X-DLP", "yes"},
               {Change::Kind::change_header, 1, "Subject", "[DLP] hi"},
               {Change::Kind::delete_recipient, 0, "bob@ext.test", ""},
               {Change::Kind::add_recipient, 0, "q@corp.test", ""}};
  d.quarantine = "cordon incident 5";
  auto f = frames(mta.session.finish(d));
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0].code, 'i');
  EXPECT_EQ(f[0].data, be32(0) + z("X-DLP") + z(" yes"));  // leading space negotiated
  EXPECT_EQ(f[1].code, 'm');
  EXPECT_EQ(f[2].code, '-');
  EXPECT_EQ(f[3].code, '+');
  EXPECT_EQ(f[4].code, 'q');
  EXPECT_EQ(f[5].code, 'a');
}

TEST(MilterSession, ChangesTheMtaDidNotAllowTempfail) {
  Mta mta;
  mta.negotiate(6, action::add_headers, kAllSteps);
  mta.message({}, "x\r\n");
  Decision d;
  d.changes = {{Change::Kind::delete_recipient, 0, "bob@ext.test", ""}};
  auto f = frames(mta.session.finish(d));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].code, 'y');
  EXPECT_EQ(f[0].data.substr(0, 9), "451 4.3.0");
  auto events = mta.session.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], Event::disallowed_change);
}

TEST(MilterSession, BlockReplyGoesOutAsOneReplyCode) {
  Mta mta;
  mta.negotiate(6, kAllActions, kAllSteps);
  mta.message({}, "x\r\n");
  auto f = frames(mta.session.finish(
      Decision::reply("550-5.7.0 Incident ID: 3\r\n550 5.7.0 Card data 50% off\r\n")));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].code, 'y');
  EXPECT_EQ(f[0].data, z("550-5.7.0 Incident ID: 3\r\n550 5.7.0 Card data 50%% off"));
}

TEST(MilterSession, AbortDropsTheMessageAndTheNextOneStartsClean) {
  Mta mta;
  mta.negotiate(6, kAllActions, kAllSteps);
  mta.send(cmd::mail, z("<first@corp.test>"));
  mta.send(cmd::rcpt, z("<one@ext.test>"));
  mta.send(cmd::header, z("Subject") + z(" first"));
  EXPECT_TRUE(mta.session.in_message());
  mta.send(cmd::abort);
  EXPECT_FALSE(mta.session.in_message());
  Step end = mta.message({{"Subject", " second"}}, "x\r\n");
  ASSERT_TRUE(end.message);
  EXPECT_EQ(end.message->recipients, (std::vector<std::string>{"bob@ext.test"}));
  EXPECT_EQ(end.message->content, "Subject: second\r\n\r\nx\r\n");
  mta.session.finish(Decision::accept());
  Step third = mta.message({{"Subject", " third"}}, "y\r\n");
  EXPECT_EQ(third.message->content, "Subject: third\r\n\r\ny\r\n");
}

TEST(MilterSession, UnknownCommandIsNotAnsweredAndTheMessageTempfails) {
  Mta mta;
  mta.negotiate(6, kAllActions, kAllSteps);
  mta.send(cmd::mail, z("<alice@corp.test>"));
  Step odd = mta.send('Z', "whatever");
  EXPECT_EQ(odd.output, "");
  EXPECT_FALSE(odd.close);
  EXPECT_FALSE(odd.warning.empty());
  mta.send(cmd::rcpt, z("<bob@ext.test>"));
  mta.send(cmd::eoh);
  Step end = mta.send(cmd::body_eob, "tail\r\n");
  ASSERT_TRUE(end.message);
  EXPECT_TRUE(end.message->protocol_doubt);
  auto f = frames(mta.session.finish(Decision::accept()));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].code, 'y');
  EXPECT_EQ(f[0].data.substr(0, 3), "451");
}

TEST(MilterSession, MalformedPayloadOfAKnownCommandIsStillAnswered) {
  Mta mta;
  mta.negotiate(2, kAllActions, 0);
  mta.send(cmd::mail, z("<alice@corp.test>"));
  mta.sent.clear();
  Step bad = mta.send(cmd::header, "no terminator");
  EXPECT_EQ(bad.output, encode(reply::continue_));
  EXPECT_FALSE(bad.warning.empty());
}

TEST(MilterSession, OversizedMessageIsCutAndFlagged) {
  Session session(SessionOptions{.max_message_bytes = 10});
  session.on_frame({cmd::optneg, encode_optneg({6, kAllActions, kAllSteps}).substr(5)});
  session.on_frame({cmd::mail, z("<a@b.test>")});
  session.on_frame({cmd::eoh, ""});
  session.on_frame({cmd::body, std::string(100, 'x')});
  Step end = session.on_frame({cmd::body_eob, ""});
  ASSERT_TRUE(end.message);
  EXPECT_TRUE(end.message->truncated);
  EXPECT_EQ(end.message->content.size(), 10u);
}

TEST(MilterSession, QuitClosesAndQuitNcKeepsTheConnectionForTheNext) {
  Mta mta;
  mta.negotiate(6, kAllActions, kAllSteps);
  mta.send(cmd::connect, z("one.test") + "U");
  EXPECT_FALSE(mta.send(cmd::quit_nc).close);
  mta.send(cmd::connect, z("two.test") + "U");
  Step end = mta.message({}, "x\r\n");
  EXPECT_EQ(end.message->client_host, "two.test");
  mta.session.finish(Decision::accept());
  EXPECT_TRUE(mta.send(cmd::quit).close);
}

TEST(MilterSession, BodyOnTheEndOfBodyCommandIsPartOfTheMessage) {
  Mta mta;
  mta.negotiate(6, kAllActions, kAllSteps);
  mta.send(cmd::mail, z("<a@b.test>"));
  mta.send(cmd::header, z("Subject") + z(" s"));
  mta.send(cmd::eoh);
  mta.send(cmd::body, "part 1\r\n");
  Step end = mta.send(cmd::body_eob, "part 2\r\n");
  EXPECT_EQ(end.message->content, "Subject: s\r\n\r\npart 1\r\npart 2\r\n");
}

TEST(MilterServerEvent, EveryEventHasItsMetricLabel) {
  using E = ServerEvent;
  EXPECT_EQ(to_string(E::frame_oversized), "frame_oversized");
  EXPECT_EQ(to_string(E::frame_empty), "frame_empty");
  EXPECT_EQ(to_string(E::unknown_command), "unknown_command");
  EXPECT_EQ(to_string(E::malformed_payload), "malformed_payload");
  EXPECT_EQ(to_string(E::aborted), "aborted");
  EXPECT_EQ(to_string(E::closed_mid_message), "closed_mid_message");
  EXPECT_EQ(to_string(E::disallowed_change), "disallowed_change");
  EXPECT_EQ(to_string(E::timeout), "timeout");
  EXPECT_EQ(to_string(E::connection), "connection");
  EXPECT_EQ(to_string(E::message), "message");
}

}  // namespace
}  // namespace cordon::milter
