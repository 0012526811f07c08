// Unit tests of the monitor's parts, fed directly: TCP reassembly from
// hand-built frames (capture/), the passive SMTP observer from byte strings
// (smtp/observer.hpp) and the IP filter (policy/ip_filter.hpp).
#include <gtest/gtest.h>

#include <map>

#include "capture/capture.hpp"
#include "policy/ip_filter.hpp"
#include "smtp/observer.hpp"

namespace cordon {
namespace {

using capture::Side;
using capture::Timestamp;

// ---- frames ----

std::vector<std::uint8_t> frame(std::uint32_t src, std::uint16_t sport, std::uint32_t dst,
                                std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
                                std::uint8_t flags, std::string_view payload) {
  std::vector<std::uint8_t> f(14 + 20 + 20 + payload.size(), 0);
  f[12] = 0x08;  // IPv4
  std::uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  const std::uint16_t total = static_cast<std::uint16_t>(40 + payload.size());
  ip[2] = total >> 8;
  ip[3] = total & 0xff;
  ip[8] = 64;
  ip[9] = 6;
  for (int i = 0; i < 4; ++i) {
    ip[12 + i] = static_cast<std::uint8_t>(src >> (24 - 8 * i));
    ip[16 + i] = static_cast<std::uint8_t>(dst >> (24 - 8 * i));
  }
  std::uint8_t* tcp = ip + 20;
  tcp[0] = sport >> 8, tcp[1] = sport & 0xff, tcp[2] = dport >> 8, tcp[3] = dport & 0xff;
  for (int i = 0; i < 4; ++i) {
    tcp[4 + i] = static_cast<std::uint8_t>(seq >> (24 - 8 * i));
    tcp[8 + i] = static_cast<std::uint8_t>(ack >> (24 - 8 * i));
  }
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  tcp[14] = 0xff, tcp[15] = 0xff;
  std::copy(payload.begin(), payload.end(), tcp + 20);
  return f;
}

constexpr std::uint8_t FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;
constexpr std::uint32_t kClient = 0x0a000001, kServer = 0x0a000002;

struct Recorded {
  std::map<Side, std::string> data;
  std::map<Side, std::uint64_t> gaps;
  std::vector<std::string> closes;
  capture::ConnectionInfo info;
};

class Recorder : public capture::StreamHandler {
 public:
  explicit Recorder(Recorded& r) : r_(r) {}
  void data(Side from, std::string_view bytes, Timestamp) override { r_.data[from] += bytes; }
  void gap(Side from, std::uint64_t bytes, Timestamp) override {
    r_.gaps[from] += bytes;
    r_.data[from] += "<gap>";
  }
  void close(capture::CloseReason reason, Timestamp) override {
    r_.closes.emplace_back(capture::to_string(reason));
  }

 private:
  Recorded& r_;
};

struct Harness {
  explicit Harness(capture::Limits limits = {})
      : reassembler(limits, {25}, [this](const capture::ConnectionInfo& info) {
          conns.emplace_back();
          conns.back().info = info;
          return std::make_unique<Recorder>(conns.back());
        }) {}
  void feed(const std::vector<std::uint8_t>& f, Timestamp t = Timestamp{1000}) {
    capture::Frame fr;
    fr.data = f;
    fr.wire_length = f.size();
    fr.time = t;
    reassembler.feed(fr);
  }
  // Client data segment at client offset `off` (after the ISN) and server ack.
  void client(std::uint32_t isn, std::uint32_t off, std::string_view p, std::uint32_t ack = 1) {
    feed(frame(kClient, 40000, kServer, 25, isn + 1 + off, ack, PSH | ACK, p));
  }
  void open(std::uint32_t cisn, std::uint32_t sisn) {
    feed(frame(kClient, 40000, kServer, 25, cisn, 0, SYN, ""));
    feed(frame(kServer, 25, kClient, 40000, sisn, cisn + 1, SYN | ACK, ""));
  }
  void server_ack(std::uint32_t sisn, std::uint32_t ack) {
    feed(frame(kServer, 25, kClient, 40000, sisn + 1, ack, ACK, ""));
  }
  std::deque<Recorded> conns;
  capture::Reassembler reassembler;
};

TEST(Reassembly, OutOfOrderSegmentsAreDeliveredInOrderOnce) {
  Harness h;
  h.open(100, 5000);
  h.client(100, 6, "world\n");
  h.client(100, 0, "hello ");
  h.client(100, 0, "hello ");  // retransmission
  ASSERT_EQ(h.conns.size(), 1u);
  EXPECT_EQ(h.conns[0].data[Side::client], "hello world\n");
  EXPECT_EQ(h.conns[0].info.client.port, 40000);
  EXPECT_FALSE(h.conns[0].info.midstream);
  EXPECT_GT(h.reassembler.stats().retransmitted_bytes, 0u);
}

TEST(Reassembly, OverlappingBytesKeepTheFirstCopyAndCountConflicts) {
  Harness h;
  h.open(100, 5000);
  h.client(100, 4, "EFGH");
  h.client(100, 2, "xxxxIJ");  // overlaps EFGH with other bytes
  h.client(100, 0, "AB");
  EXPECT_EQ(h.conns[0].data[Side::client], "ABxxEFGH");
  EXPECT_EQ(h.reassembler.stats().conflicting_bytes, 4u);
}

TEST(Reassembly, SequenceNumbersWrapAround) {
  Harness h;
  const std::uint32_t isn = 0xfffffff0u;
  h.open(isn, 5000);
  h.client(isn, 0, "0123456789abcdef");  // crosses 2^32
  h.client(isn, 16, "WRAPPED");
  EXPECT_EQ(h.conns[0].data[Side::client], "0123456789abcdefWRAPPED");
}

TEST(Reassembly, AnAcknowledgedHoleIsAGap) {
  Harness h;
  h.open(100, 5000);
  h.client(100, 0, "aaaa");
  h.client(100, 8, "cccc");  // 4 bytes missing
  h.server_ack(5000, 100 + 1 + 12);
  EXPECT_EQ(h.conns[0].data[Side::client], "aaaa<gap>cccc");
  EXPECT_EQ(h.conns[0].gaps[Side::client], 4u);
  EXPECT_EQ(h.reassembler.stats().gaps, 1u);
}

TEST(Reassembly, BufferLimitTurnsTheOldestHoleIntoAGap) {
  capture::Limits limits;
  limits.max_buffered_per_direction = 8;
  Harness h(limits);
  h.open(100, 5000);
  h.client(100, 10, "0123456789");  // more than 8 bytes waiting
  EXPECT_EQ(h.conns[0].data[Side::client], "<gap>0123456789");
  EXPECT_EQ(h.reassembler.buffered_bytes(), 0u);
  EXPECT_EQ(h.reassembler.stats().buffer_overflows, 1u);
}

TEST(Reassembly, FinBeforeTheLastDataClosesAfterIt) {
  Harness h;
  h.open(100, 5000);
  h.client(100, 0, "ab");
  h.feed(frame(kClient, 40000, kServer, 25, 100 + 1 + 4, 5001, FIN | ACK, ""));
  h.feed(frame(kServer, 25, kClient, 40000, 5001, 100 + 1 + 2, FIN | ACK, ""));
  EXPECT_TRUE(h.conns[0].closes.empty());
  h.client(100, 2, "cd");
  EXPECT_EQ(h.conns[0].data[Side::client], "abcd");
  ASSERT_EQ(h.conns[0].closes.size(), 1u);
  EXPECT_EQ(h.conns[0].closes[0], "fin");
}

TEST(Reassembly, ResetFlushesWhatWaitsAndCloses) {
  Harness h;
  h.open(100, 5000);
  h.client(100, 4, "late");
  h.feed(frame(kClient, 40000, kServer, 25, 100 + 1 + 8, 0, RST, ""));
  EXPECT_EQ(h.conns[0].data[Side::client], "<gap>late");
  ASSERT_EQ(h.conns[0].closes.size(), 1u);
  EXPECT_EQ(h.conns[0].closes[0], "rst");
}

TEST(Reassembly, MidstreamConnectionTakesTheServerFromThePort) {
  Harness h;
  h.feed(frame(kServer, 25, kClient, 40000, 777, 999, PSH | ACK, "250 ok\r\n"));
  ASSERT_EQ(h.conns.size(), 1u);
  EXPECT_TRUE(h.conns[0].info.midstream);
  EXPECT_EQ(h.conns[0].info.server.port, 25);
  EXPECT_EQ(h.conns[0].data[Side::server], "250 ok\r\n");
}

TEST(Reassembly, IdleConnectionsExpireOnCaptureTime) {
  capture::Limits limits;
  limits.idle_timeout = std::chrono::seconds(10);
  Harness h(limits);
  h.open(100, 5000);
  h.reassembler.advance(Timestamp{1000} + std::chrono::seconds(5));
  EXPECT_TRUE(h.conns[0].closes.empty());
  h.reassembler.advance(Timestamp{1000} + std::chrono::seconds(11));
  ASSERT_EQ(h.conns[0].closes.size(), 1u);
  EXPECT_EQ(h.conns[0].closes[0], "idle");
  EXPECT_EQ(h.reassembler.open_connections(), 0u);
}

TEST(Reassembly, ConnectionLimitEvictsTheLeastRecentlyActive) {
  capture::Limits limits;
  limits.max_connections = 2;
  Harness h(limits);
  for (std::uint16_t port = 40000; port < 40003; ++port)
    h.feed(frame(kClient, port, kServer, 25, 100, 0, SYN, ""));
  EXPECT_EQ(h.reassembler.open_connections(), 2u);
  EXPECT_EQ(h.reassembler.stats().evicted, 1u);
  EXPECT_EQ(h.conns[0].closes, std::vector<std::string>{"evicted"});
}

TEST(Reassembly, OtherPortsAreNotFollowed) {
  Harness h;
  h.feed(frame(kClient, 40000, kServer, 80, 100, 0, SYN, ""));
  EXPECT_TRUE(h.conns.empty());
}

TEST(Reassembly, TruncatedAndUndecodableFramesAreCounted) {
  Harness h;
  std::vector<std::uint8_t> junk = {1, 2, 3};
  h.feed(junk);
  EXPECT_EQ(h.reassembler.stats().undecodable, 1u);
}

// ---- observer ----

struct Seen {
  std::vector<smtp::ObservedMessage> messages;
  smtp::Observer observer{
      {}, true, [this](smtp::ObservedMessage&& m) { messages.push_back(std::move(m)); }};
};

constexpr std::string_view kDialogueClient =
    "EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<no@y.example>\r\n"
    "DATA\r\nSubject: s\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n";
constexpr std::string_view kDialogueServer =
    "220 mx\r\n250-mx\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n250 "
    "queued\r\n221 bye\r\n";

TEST(Observer, EndOfDataSplitAtEveryByteAndPipelinedReplies) {
  for (std::size_t cut = 0; cut <= kDialogueClient.size(); ++cut) {
    Seen s;
    // The whole pipelined client side, then the replies: the content after
    // DATA waits for the 354.
    s.observer.server_data("220 mx\r\n");
    s.observer.client_data(kDialogueClient.substr(0, cut));
    s.observer.client_data(kDialogueClient.substr(cut));
    EXPECT_TRUE(s.messages.empty());
    s.observer.server_data(kDialogueServer.substr(8));
    ASSERT_EQ(s.messages.size(), 1u) << cut;
    const auto& m = s.messages[0];
    EXPECT_EQ(m.content, "Subject: s\r\n\r\n.dot\r\nbody\r\n") << cut;
    EXPECT_EQ(m.sender, "a@x.example");
    EXPECT_EQ(m.recipients, std::vector<std::string>{"b@y.example"});
    EXPECT_EQ(m.reply, 250);
    EXPECT_EQ(m.helo, "c");
    EXPECT_TRUE(m.complete);
  }
}

TEST(Observer, ByteByByteDelivery) {
  Seen s;
  s.observer.server_data("220 mx\r\n");
  for (char c : kDialogueClient) s.observer.client_data(std::string_view(&c, 1));
  for (char c : kDialogueServer.substr(8)) s.observer.server_data(std::string_view(&c, 1));
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].content, "Subject: s\r\n\r\n.dot\r\nbody\r\n");
}

TEST(Observer, ClientOnlyCountsUnansweredRecipients) {
  Seen s;
  s.observer.client_data(kDialogueClient);
  EXPECT_TRUE(s.messages.empty());  // DATA waits for a reply that never comes
  s.observer.close("fin");
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].recipients.size(), 2u);
  EXPECT_FALSE(s.messages[0].reply.has_value());
}

TEST(Observer, HeldBytesPastTheLimitAssumeTheReply) {
  smtp::ObserverLimits limits;
  limits.max_held_bytes = 64;
  std::vector<smtp::ObservedMessage> out;
  smtp::Observer o(limits, true, [&](smtp::ObservedMessage&& m) { out.push_back(std::move(m)); });
  o.client_data("EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
  o.client_data(std::string(100, 'z') + "\r\n.\r\n");
  ASSERT_EQ(out.size(), 0u);  // ended, waiting for the reply to the end
  o.close("fin");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].content, std::string(100, 'z') + "\r\n");
}

TEST(Observer, StarttlsAcceptedEndsReading) {
  Seen s;
  s.observer.server_data("220 mx\r\n");
  s.observer.client_data("EHLO c\r\nSTARTTLS\r\n");
  s.observer.server_data("250 mx\r\n220 go ahead\r\n");
  s.observer.client_data("\x16\x03\x01MAIL FROM:<x@y>\r\nDATA\r\n");
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_TRUE(s.messages[0].encrypted);
  EXPECT_TRUE(s.observer.encrypted());
  s.observer.close("fin");
  EXPECT_EQ(s.messages.size(), 1u);
}

TEST(Observer, StarttlsRefusedGoesOn) {
  Seen s;
  s.observer.server_data("220 mx\r\n");
  s.observer.client_data("STARTTLS\r\n");
  s.observer.server_data("454 not now\r\n");
  s.observer.client_data("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
  s.observer.server_data("250 ok\r\n250 ok\r\n354 go\r\n");
  s.observer.client_data("hi\r\n.\r\n");
  s.observer.server_data("250 ok\r\n");
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_FALSE(s.messages[0].encrypted);
}

TEST(Observer, AuthLinesAreNeverCommands) {
  Seen s;
  s.observer.server_data("220 mx\r\n");
  s.observer.client_data("AUTH LOGIN\r\n");
  s.observer.server_data("334 VXNlcm5hbWU6\r\n");
  s.observer.client_data("RSET\r\n");
  s.observer.server_data("334 UGFzc3dvcmQ6\r\n");
  s.observer.client_data("MAIL FROM:<decoy@x>\r\n");
  s.observer.server_data("235 ok\r\n");
  s.observer.client_data("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
  s.observer.server_data("250 ok\r\n250 ok\r\n354 go\r\n");
  s.observer.client_data("hi\r\n.\r\n");
  s.observer.server_data("250 ok\r\n");
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].sender, "a@x");
  EXPECT_EQ(s.messages[0].recipients, std::vector<std::string>{"b@y"});
}

TEST(Observer, RejectedDataBytesAreCommands) {
  Seen s;
  s.observer.server_data("220 mx\r\n");
  s.observer.client_data("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
  s.observer.server_data("250 ok\r\n550 no\r\n554 no valid recipients\r\n");
  s.observer.client_data("RSET\r\nMAIL FROM:<a@x>\r\nRCPT TO:<c@y>\r\nDATA\r\n");
  s.observer.server_data("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
  s.observer.client_data("hi\r\n.\r\n");
  s.observer.server_data("250 ok\r\n");
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].recipients, std::vector<std::string>{"c@y"});
}

TEST(Observer, BdatChunksWithLastAndARejectedOne) {
  Seen s;
  s.observer.server_data("220 mx\r\n");
  s.observer.client_data("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 5\r\n.abc\nBDAT 3 LAST\r\nxyz");
  s.observer.server_data("250 ok\r\n250 ok\r\n250 chunk\r\n250 done\r\n");
  s.observer.client_data(
      "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 2\r\nokBDAT 2\r\nNOBDAT 0 LAST\r\n");
  s.observer.server_data("250 ok\r\n250 ok\r\n250 chunk\r\n552 too big\r\n554 failed\r\n");
  ASSERT_EQ(s.messages.size(), 2u);
  EXPECT_EQ(s.messages[0].content, ".abc\nxyz");
  EXPECT_TRUE(s.messages[0].complete);
  EXPECT_TRUE(s.messages[0].bdat);
  EXPECT_EQ(s.messages[1].content, "ok");
  EXPECT_FALSE(s.messages[1].complete);
  EXPECT_EQ(s.messages[1].reply, 554);
}

TEST(Observer, LongLinesAreSkippedAndBounded) {
  smtp::ObserverLimits limits;
  limits.max_line_bytes = 100;
  std::vector<smtp::ObservedMessage> out;
  smtp::Observer o(limits, true, [&](smtp::ObservedMessage&& m) { out.push_back(std::move(m)); });
  o.server_data("220 mx\r\n");
  for (int i = 0; i < 50; ++i) o.client_data(std::string(1000, 'A'));
  o.client_data("\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
  o.server_data("500 too long\r\n250 ok\r\n250 ok\r\n354 go\r\n");
  o.client_data("hi\r\n.\r\n");
  o.server_data("250 ok\r\n");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].recipients, std::vector<std::string>{"b@y"});
  EXPECT_EQ(o.stats().long_lines, 1u);
}

TEST(Observer, MessageLimitCutsAndMarksIncomplete) {
  smtp::ObserverLimits limits;
  limits.max_message_bytes = 10;
  std::vector<smtp::ObservedMessage> out;
  smtp::Observer o(limits, true, [&](smtp::ObservedMessage&& m) { out.push_back(std::move(m)); });
  o.server_data("220 mx\r\n");
  o.client_data("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
  o.server_data("250 ok\r\n250 ok\r\n354 go\r\n");
  o.client_data("0123456789abcdef\r\n.\r\n");
  o.server_data("250 ok\r\n");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].content, "0123456789");
  EXPECT_FALSE(out[0].complete);
}

TEST(Observer, GapInCommandsResynchronisesAtTheNextCommand) {
  Seen s;
  s.observer.server_data("220 mx\r\n");
  s.observer.client_data("MAIL FROM:<a@x>\r\nRCPT TO:<b@");
  s.observer.client_gap(20);
  s.observer.client_data(
      "junk after the gap\r\nRSET\r\nMAIL FROM:<c@x>\r\nRCPT TO:<d@y>\r\nDATA\r\n");
  s.observer.server_data("250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
  s.observer.client_data("hi\r\n.\r\n");
  s.observer.server_data("250 ok\r\n");
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].sender, "c@x");
}

TEST(Observer, MidstreamStartSkipsToTheFirstCommand) {
  std::vector<smtp::ObservedMessage> out;
  smtp::Observer o({}, false, [&](smtp::ObservedMessage&& m) { out.push_back(std::move(m)); });
  o.client_data("rest of a message\r\n.\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n");
  o.server_data("250 queued\r\n");  // answers the unseen message: ignored
  o.server_data("250 ok\r\n250 ok\r\n354 go\r\n");
  o.client_data("hi\r\n.\r\n");
  o.server_data("250 ok\r\n");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].sender, "a@x");
}

// ---- ip filter ----

std::array<std::uint8_t, 16> v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return {a, b, c, d};
}

TEST(IpFilter, MasksDecideFirstMatchWithTheConnectionRules) {
  auto f = policy::parse_ip_filter("-10.9.9.9/32, +10.0.0.0/8, *");
  ASSERT_TRUE(f);
  using policy::FilterAction;
  EXPECT_EQ(policy::decide_connection(*f, false, v4(10, 9, 9, 9), false, v4(8, 8, 8, 8)).action,
            FilterAction::ignore);
  EXPECT_EQ(policy::decide_connection(*f, false, v4(10, 1, 1, 1), false, v4(8, 8, 8, 8)).action,
            FilterAction::inspect);
  EXPECT_EQ(policy::decide_connection(*f, false, v4(192, 0, 2, 1), false, v4(8, 8, 8, 8)).action,
            FilterAction::ignore);
  auto g = policy::parse_ip_filter("-192.0.2.0/24");
  ASSERT_TRUE(g);
  EXPECT_EQ(policy::decide_connection(*g, false, v4(198, 51, 100, 1), false, v4(8, 8, 8, 8)).action,
            FilterAction::inspect);
  EXPECT_TRUE(policy::parse_ip_filter("").value().empty());
}

TEST(IpFilter, Ipv6AndMappedAddresses) {
  auto f = policy::parse_ip_filter("-2001:db8::/32, -192.0.2.1");
  ASSERT_TRUE(f);
  std::array<std::uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8};
  std::array<std::uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
  EXPECT_EQ(policy::decide_connection(*f, true, a, false, v4(8, 8, 8, 8)).action,
            policy::FilterAction::ignore);
  EXPECT_EQ(policy::decide_connection(*f, true, mapped, false, v4(8, 8, 8, 8)).action,
            policy::FilterAction::ignore);
}

TEST(IpFilter, BadMasksAreRefusedWithTheirIndex) {
  for (std::string_view bad :
       {"10.0.0.0/33", "nonsense", "*, 10.0.0.0/8", "10.0.0.1,,", "::1/129"}) {
    auto f = policy::parse_ip_filter(bad);
    EXPECT_FALSE(f) << bad;
  }
  auto f = policy::parse_ip_filter("10.0.0.0/8, 300.1.1.1");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().mask_index, 1u);
  EXPECT_NE(f.error().message.find("mask 2"), std::string::npos);
}

}  // namespace
}  // namespace cordon
