// libFuzzer target for smtp::parse_command: any line must parse without a
// crash or a hang; a parsed command never carries a control character into
// its address or argument (CR/LF there would split the next hop's command);
// a parsed MAIL/RCPT address is a valid mailbox and survives a round trip
// through the client's formatting; a refusal is a well-formed 5xx reply.
// Not part of the default build. Build and run (fuzz/run.sh does both):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc
//   fuzz/smtp_command_fuzz.cpp src/smtp/command.cpp src/smtp/address.cpp
//   src/smtp/reply.cpp src/util/ascii.cpp -o smtp_command_fuzz
//   && ./smtp_command_fuzz -max_len=1024 fuzz/corpus/smtp_command
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "smtp/address.hpp"
#include "smtp/command.hpp"
#include "smtp/reply.hpp"

namespace {

bool has_control(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 32 && c != '\t') || u == 127) return true;
  }
  return false;
}

bool has_any_control(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 32 || u == 127) return true;
  }
  return false;
}

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cordon::smtp;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_command(line);
  if (!parsed) {
    const Reply& reply = parsed.error().reply;
    check(reply.code >= 500 && reply.code <= 555);
    std::size_t consumed = 0;
    auto again = parse_reply(reply.wire(), &consumed);
    check(again.has_value() && consumed == reply.wire().size() && again->code == reply.code);
    return 0;
  }
  const Command& cmd = *parsed;
  check(!has_control(cmd.argument));
  if (cmd.verb != Verb::mail && cmd.verb != Verb::rcpt) return 0;
  check(!has_any_control(cmd.address));
  if (cmd.address.empty()) {
    check(cmd.verb == Verb::mail);
  } else if (cmd.verb == Verb::rcpt && cmd.address.find('@') == std::string::npos) {
    check(cmd.address.size() == 10);  // <Postmaster>, any case
  } else {
    check(is_valid_mailbox(cmd.address));
    auto mailbox = parse_mailbox(cmd.address);
    check(mailbox.has_value() && mailbox->source_route.empty());
  }
  // What the client would send for this command parses to the same thing.
  std::string again = cmd.verb == Verb::mail
                          ? "MAIL FROM:<" + cmd.address + ">" + format_mail_params(cmd.mail)
                          : "RCPT TO:<" + cmd.address + ">" + format_rcpt_params(cmd.rcpt);
  auto reparsed = parse_command(again);
  check(reparsed.has_value());
  check(reparsed->address == cmd.address);
  if (cmd.verb == Verb::mail) {
    check(reparsed->mail.size == cmd.mail.size && reparsed->mail.body == cmd.mail.body &&
          reparsed->mail.smtputf8 == cmd.mail.smtputf8 && reparsed->mail.ret == cmd.mail.ret &&
          reparsed->mail.envid == cmd.mail.envid);
  } else {
    check(reparsed->rcpt.notify == cmd.rcpt.notify && reparsed->rcpt.orcpt == cmd.rcpt.orcpt);
  }
  return 0;
}
