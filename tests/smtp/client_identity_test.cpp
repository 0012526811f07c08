// Unit tests of who a session's client is: the peer address with an
// IPv4-mapped IPv6 address taken as IPv4 (dual-stack listeners), and the
// XFORWARD client that replaces it for a transaction but never for the peer.
#include <gtest/gtest.h>

#include "smtp/handler.hpp"

namespace cordon::smtp {
namespace {

SessionInfo from(std::string_view address) {
  SessionInfo s;
  s.client = {asio::ip::make_address(address), 2525};
  s.helo_name = "peer.example";
  return s;
}

TEST(ClientIdentity, Ipv4MappedAddressIsTheIpv4Address) {
  EXPECT_EQ(unmapped(asio::ip::make_address("::ffff:192.0.2.7")).to_string(), "192.0.2.7");
  EXPECT_TRUE(unmapped(asio::ip::make_address("::ffff:192.0.2.7")).is_v4());
  EXPECT_EQ(peer_address(from("::ffff:10.1.2.3")), "10.1.2.3");
}

TEST(ClientIdentity, OtherAddressesAreUnchanged) {
  EXPECT_EQ(unmapped(asio::ip::make_address("2001:db8::1")).to_string(), "2001:db8::1");
  EXPECT_EQ(unmapped(asio::ip::make_address("::1")).to_string(), "::1");
  EXPECT_EQ(peer_address(from("127.0.0.1")), "127.0.0.1");
}

TEST(ClientIdentity, XforwardNamesTheTransactionsClientNotThePeer) {
  auto s = from("::ffff:127.0.0.1");
  EXPECT_EQ(client_address(s), "127.0.0.1");
  EXPECT_EQ(client_helo(s), "peer.example");
  Forwarded fwd;
  fwd.name = "mx.example";
  fwd.addr = "198.51.100.9";
  fwd.helo = "mx.example";
  s.forwarded = fwd;
  EXPECT_EQ(client_address(s), "198.51.100.9");
  EXPECT_EQ(client_helo(s), "mx.example");
  EXPECT_EQ(peer_address(s), "127.0.0.1");
}

}  // namespace
}  // namespace cordon::smtp
