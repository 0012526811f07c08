// Default (permissive) implementations of the Handler hooks.
#include "smtp/handler.hpp"

namespace cordon::smtp {

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
