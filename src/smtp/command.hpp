// SMTP command parser (RFC 5321 4.1, with the ESMTP parameters of RFC 1870
// SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8 and RFC 3461 DSN). Pure: one
// command line (without CRLF) in, a Command or the exact error reply out.
// Protocol sequencing (503) is the session's business, not the parser's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/reply.hpp"
#include "util/result.hpp"

namespace cordon::smtp {

enum class Verb {
  ehlo,
  helo,
  mail,
  rcpt,
  data,
  bdat,
  rset,
  noop,
  quit,
  vrfy,
  expn,
  help,
  starttls,
  xforward  // Postfix's XFORWARD (see XforwardAttribute)
};

std::string_view to_string(Verb verb);

enum class Body { unspecified, seven_bit, eight_bit_mime };
enum class DsnRet { unspecified, full, hdrs };

struct MailParams {
  std::optional<std::uint64_t> size;  // SIZE=
  Body body = Body::unspecified;      // BODY=7BIT | 8BITMIME
  bool smtputf8 = false;              // SMTPUTF8
  DsnRet ret = DsnRet::unspecified;   // RET=FULL | HDRS
  std::string envid;                  // ENVID= (xtext, kept encoded)
};

struct RcptParams {
  std::string notify;  // NOTIFY= as given, upper-cased ("SUCCESS,FAILURE", "NEVER"), empty if none
  std::string orcpt;   // ORCPT= (addr-type;xtext, kept encoded), empty if none
};

// An envelope sender / recipient with its parameters.
struct MailFrom {
  std::string sender;  // "" for the null sender <>
  MailParams params;
};

struct RcptTo {
  std::string recipient;
  RcptParams params;
};

// One attribute of an XFORWARD command (Postfix's XFORWARD_README): the
// client of the MTA in front of us, forwarded by that MTA. `name` is upper
// case (NAME, ADDR, PORT, PROTO, HELO, IDENT, SOURCE); `value` is
// xtext-decoded, empty for [UNAVAILABLE].
struct XforwardAttribute {
  std::string name;
  std::string value;
};

struct Command {
  Verb verb = Verb::noop;
  // EHLO/HELO: the client's domain or address literal; VRFY/EXPN/HELP/NOOP: the argument.
  std::string argument;
  // MAIL: reverse-path mailbox ("" for the null sender <>); RCPT: forward-path
  // mailbox. Without angle brackets, source route dropped, local part as written
  // (quotes kept), e.g. "\"john doe\"@example.com" or "user@[192.0.2.1]".
  std::string address;
  MailParams mail;                            // MAIL only
  RcptParams rcpt;                            // RCPT only
  std::vector<XforwardAttribute> xforward{};  // XFORWARD only, in the order given
};

enum class CommandErrorCode {
  unrecognized,       // 500 5.5.2: unknown verb, empty line, control characters
  bad_arguments,      // 501 5.5.4: missing/extra arguments, bad domain
  bad_address,        // 501 5.1.7 (sender) / 501 5.1.3 (recipient): path syntax, and any
                      // control character (CR, LF, NUL, TAB, ...) inside the path
  not_implemented,    // 502 5.5.1: BDAT, EXPN
  param_unsupported,  // 504 5.5.4: known parameter with a value we do not implement
  unknown_parameter,  // 555 5.5.4: MAIL/RCPT parameter not recognised
};

struct CommandError {
  CommandErrorCode code;
  Reply reply;  // ready to send
};

// Parses one command line without its CRLF.
Result<Command, CommandError> parse_command(std::string_view line);

// Validates an RFC 5321 mailbox (Local-part "@" (Domain / address-literal));
// `allow_utf8` admits RFC 6531 UTF-8 in local part and domain.
bool is_valid_mailbox(std::string_view mailbox, bool allow_utf8 = true);

// Formats the parameters for a MAIL/RCPT command line (" SIZE=123 BODY=8BITMIME"),
// leading space included, empty when there is nothing to send. Client side:
// pass the extensions the server offered so unsupported parameters are dropped.
struct OfferedExtensions {
  bool size = true, eight_bit_mime = true, smtputf8 = true, dsn = true;
};
std::string format_mail_params(const MailParams& params, const OfferedExtensions& offered = {});
std::string format_rcpt_params(const RcptParams& params, const OfferedExtensions& offered = {});

// RFC 3461 xtext. Decoding leaves a malformed "+XX" as it is.
std::string xtext_decode(std::string_view text);
std::string xtext_encode(std::string_view text);

// The XFORWARD command lines (without CRLF) for `attributes`, xtext-encoded
// and split so that no line exceeds 512 octets with its CRLF; only the
// attributes in `offered` (upper case, from the server's EHLO) are sent.
std::vector<std::string> format_xforward(const std::vector<XforwardAttribute>& attributes,
                                         const std::vector<std::string>& offered);

}  // namespace cordon::smtp
