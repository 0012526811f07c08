// Default (permissive) implementations of the Handler hooks, and the
// effective client of a transaction.
#include "smtp/handler.hpp"

namespace cordon::smtp {

asio::ip::address unmapped(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  return address;
}

std::string peer_address(const SessionInfo& session) {
  return unmapped(session.client.address()).to_string();
}

std::string client_address(const SessionInfo& session) {
  if (session.forwarded) return session.forwarded->addr;
  return peer_address(session);
}

std::string client_helo(const SessionInfo& session) {
  return session.forwarded ? session.forwarded->helo : session.helo_name;
}

asio::awaitable<std::optional<Reply>> Handler::on_connect(const SessionInfo&) {
  co_return std::nullopt;
}

asio::awaitable<std::optional<Reply>> Handler::on_helo(const SessionInfo&, std::string_view) {
  co_return std::nullopt;
}

asio::awaitable<Reply> Handler::on_mail(const SessionInfo&, const MailFrom&) {
  co_return Reply::make(250, "2.1.0", "Sender OK");
}

asio::awaitable<Reply> Handler::on_rcpt(const SessionInfo&, const RcptTo&) {
  co_return Reply::make(250, "2.1.5", "Recipient OK");
}

asio::awaitable<void> Handler::on_data_abort(const SessionInfo&, const Reply&) {
  co_return;
}

asio::awaitable<void> Handler::on_rset(const SessionInfo&) {
  co_return;
}

asio::awaitable<void> Handler::on_disconnect(const SessionInfo&) {
  co_return;
}

}  // namespace cordon::smtp
