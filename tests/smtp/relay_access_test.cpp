// Relay access: outside clients reach only the local domains, never through
// routed local parts.
#include "smtp/relay_access.hpp"

#include <gtest/gtest.h>

namespace cordon::smtp {
namespace {

RelayRules rules() {
  return {[](std::string_view ip) { return ip == "127.0.0.1"; }, {"corp.example"}};
}

TEST(RelayAccess, TrustedClientsMaySendAnywhere) {
  EXPECT_EQ(relay_decision(rules(), "127.0.0.1", "a@ext.example"), RelayDecision::allowed);
  EXPECT_EQ(relay_decision(rules(), "127.0.0.1", "user%ext.example@corp.example"),
            RelayDecision::allowed);
}

TEST(RelayAccess, OutsideClientsReachOnlyLocalDomains) {
  EXPECT_EQ(relay_decision(rules(), "127.0.0.2", "a@ext.example"), RelayDecision::not_local);
  EXPECT_EQ(relay_decision(rules(), "127.0.0.2", "Bob@CORP.example"), RelayDecision::allowed);
  EXPECT_EQ(relay_decision(rules(), "127.0.0.2", "postmaster"), RelayDecision::allowed);
  EXPECT_EQ(relay_decision(rules(), "127.0.0.2", "\"john doe\"@corp.example"),
            RelayDecision::allowed);
  EXPECT_EQ(relay_decision(rules(), "127.0.0.2", "user+tag@corp.example"), RelayDecision::allowed);
}

TEST(RelayAccess, RoutedLocalPartsAreRefusedAsPostfixDoes) {
  for (const char* routed : {"user%ext.example@corp.example", "\"user@ext.example\"@corp.example",
                             "\"user%ext.example\"@corp.example", "ext.example!user@corp.example",
                             "user!ext.example@corp.example", "@ext.example:user@corp.example"})
    EXPECT_EQ(relay_decision(rules(), "127.0.0.2", routed), RelayDecision::routed) << routed;
}

TEST(RelayAccess, MalformedAddressesAreRefused) {
  EXPECT_EQ(relay_decision(rules(), "127.0.0.2", "no-domain"), RelayDecision::malformed);
  EXPECT_EQ(relay_decision(rules(), "127.0.0.2", "a@corp.example\r\nRCPT TO:<x@y>"),
            RelayDecision::malformed);
}

}  // namespace
}  // namespace cordon::smtp
