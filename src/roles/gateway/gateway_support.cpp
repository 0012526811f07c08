// Envelope conversions and the host name for the gateway (see gateway_support.hpp).
#include "roles/gateway/gateway_support.hpp"

#include <unistd.h>

#include <array>
#include <cctype>

namespace cordon::roles::gateway {

std::string xtext_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string xtext_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == '+' || c == '=') {
      out.push_back('+');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

queue::MailParams to_queue_params(const smtp::MailParams& params) {
  queue::MailParams out;
  out.size = params.size;
  if (params.body == smtp::Body::seven_bit) out.body = "7BIT";
  if (params.body == smtp::Body::eight_bit_mime) out.body = "8BITMIME";
  if (params.ret == smtp::DsnRet::full) out.ret = "FULL";
  if (params.ret == smtp::DsnRet::hdrs) out.ret = "HDRS";
  out.envid = xtext_decode(params.envid);
  out.smtputf8 = params.smtputf8;
  return out;
}

smtp::MailParams to_smtp_params(const queue::MailParams& params) {
  smtp::MailParams out;
  out.size = params.size;
  if (params.body == "7BIT") out.body = smtp::Body::seven_bit;
  if (params.body == "8BITMIME") out.body = smtp::Body::eight_bit_mime;
  if (params.ret == "FULL") out.ret = smtp::DsnRet::full;
  if (params.ret == "HDRS") out.ret = smtp::DsnRet::hdrs;
  out.envid = xtext_encode(params.envid);
  out.smtputf8 = params.smtputf8;
  return out;
}

queue::Recipient to_queue_recipient(const smtp::RcptTo& rcpt) {
  queue::Recipient out;
  out.address = rcpt.recipient;
  out.notify = rcpt.params.notify;
  // ORCPT is "addr-type;xtext": only the address part is encoded.
  if (auto semi = rcpt.params.orcpt.find(';'); semi != std::string::npos)
    out.orcpt =
        rcpt.params.orcpt.substr(0, semi + 1) + xtext_decode(rcpt.params.orcpt.substr(semi + 1));
  return out;
}

smtp::RcptTo to_smtp_recipient(const queue::Recipient& recipient) {
  smtp::RcptTo out;
  out.recipient = recipient.address;
  out.params.notify = recipient.notify;
  if (auto semi = recipient.orcpt.find(';'); semi != std::string::npos)
    out.params.orcpt =
        recipient.orcpt.substr(0, semi + 1) + xtext_encode(recipient.orcpt.substr(semi + 1));
  return out;
}

std::string domain_of(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string domain(address.substr(at + 1));
  for (auto& c : domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return domain;
}

std::string gateway_hostname(const config::GatewayConfig& config) {
  if (!config.hostname.empty()) return config.hostname;
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
  return name.data();
}

}  // namespace cordon::roles::gateway
