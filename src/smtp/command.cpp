// SMTP command parsing: verbs, paths (RFC 5321 4.1.2) and ESMTP parameters.
// Every rejection carries the reply the session sends, so the wording and
// the enhanced status codes live in one place.
#include "smtp/command.hpp"

#include "smtp/address.hpp"
#include "util/ascii.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace cordon::smtp {
namespace {

constexpr std::size_t kMaxPath = 256;  // RFC 5321 4.5.3.1.3, brackets included

struct VerbName {
  std::string_view name;
  Verb verb;
};
constexpr std::array<VerbName, 14> kVerbs{{{"EHLO", Verb::ehlo},
                                           {"HELO", Verb::helo},
                                           {"MAIL", Verb::mail},
                                           {"RCPT", Verb::rcpt},
                                           {"DATA", Verb::data},
                                           {"BDAT", Verb::bdat},
                                           {"RSET", Verb::rset},
                                           {"NOOP", Verb::noop},
                                           {"QUIT", Verb::quit},
                                           {"VRFY", Verb::vrfy},
                                           {"EXPN", Verb::expn},
                                           {"HELP", Verb::help},
                                           {"STARTTLS", Verb::starttls},
                                           {"XFORWARD", Verb::xforward}}};

constexpr std::array<std::string_view, 7> kXforwardNames{"NAME", "ADDR",  "PORT",  "PROTO",
                                                         "HELO", "IDENT", "SOURCE"};
constexpr std::size_t kMaxXforwardValue = 255;  // XFORWARD_README, note 1

char upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

using util::iequals;
using util::istarts_with;

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = upper(c);
  return out;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// C0 controls and DEL; TAB (tolerated as a space outside paths) optional.
bool has_control(std::string_view s, bool tab_is_control) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 32 && (tab_is_control || c != '\t')) || u == 127) return true;
  }
  return false;
}

CommandError error(CommandErrorCode code, int reply_code, std::string_view enhanced,
                   std::string_view text) {
  return CommandError{code, Reply::make(reply_code, enhanced, text)};
}

CommandError syntax_error(std::string_view text = "Syntax error, command unrecognized") {
  return error(CommandErrorCode::unrecognized, 500, "5.5.2", text);
}

CommandError argument_error(std::string_view text) {
  return error(CommandErrorCode::bad_arguments, 501, "5.5.4", text);
}

// Splits "<...>" off the front of `s`; returns the inside and leaves the rest in `rest`.
bool take_path(std::string_view s, std::string_view& inside, std::string_view& rest) {
  if (s.empty() || s.front() != '<') return false;
  bool quoted = false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (quoted && s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (s[i] == '>' && !quoted) {
      if (i + 1 > kMaxPath) return false;
      inside = s.substr(1, i - 1);
      rest = s.substr(i + 1);
      return true;
    }
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool valid_xtext(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      if (i + 2 >= s.size()) return false;
      auto hex = [](char c) { return is_digit(c) || (c >= 'A' && c <= 'F'); };
      if (!hex(s[i + 1]) || !hex(s[i + 2])) return false;
      i += 2;
    } else if (static_cast<unsigned char>(s[i]) < 33 || static_cast<unsigned char>(s[i]) > 126 ||
               s[i] == '=') {
      return false;
    }
  }
  return true;
}

struct Param {
  std::string keyword;  // upper case
  std::string_view value;
  bool has_value;
};

// esmtp-param = esmtp-keyword ["=" esmtp-value]
Result<std::vector<Param>, CommandError> split_params(std::string_view text) {
  std::vector<Param> params;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos >= text.size()) break;
    std::size_t end = text.find(' ', pos);
    std::string_view token = text.substr(pos, end == text.npos ? text.npos : end - pos);
    pos = end == text.npos ? text.size() : end;
    std::size_t eq = token.find('=');
    std::string_view keyword = token.substr(0, eq);
    if (keyword.empty() || !(is_alpha(keyword[0]) || is_digit(keyword[0])))
      return fail(argument_error("Syntax error in parameters"));
    for (char c : keyword)
      if (!is_alpha(c) && !is_digit(c) && c != '-')
        return fail(argument_error("Syntax error in parameters"));
    Param p{to_upper(keyword), {}, eq != token.npos};
    if (p.has_value) {
      p.value = token.substr(eq + 1);
      if (p.value.empty()) return fail(argument_error("Syntax error in parameters"));
      for (char c : p.value) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u < 33 || u > 126 || c == '=')
          return fail(argument_error("Syntax error in parameters"));
      }
    }
    for (const auto& seen : params)
      if (seen.keyword == p.keyword) return fail(argument_error("Duplicate parameter"));
    params.push_back(std::move(p));
  }
  return params;
}

CommandError unknown_param(const std::string& keyword) {
  return error(CommandErrorCode::unknown_parameter, 555, "5.5.4",
               "Unsupported parameter " + keyword);
}

Result<MailParams, CommandError> parse_mail_params(std::string_view text) {
  auto split = split_params(text);
  if (!split) return fail(split.error());
  MailParams out;
  for (const auto& p : *split) {
    auto need_value = [&]() -> bool { return p.has_value; };
    if (p.keyword == "SIZE") {
      std::uint64_t size = 0;
      auto [ptr, ec] = std::from_chars(p.value.data(), p.value.data() + p.value.size(), size);
      if (!need_value() || ec != std::errc() || ptr != p.value.data() + p.value.size())
        return fail(argument_error("Bad SIZE parameter"));
      out.size = size;
    } else if (p.keyword == "BODY") {
      if (!need_value()) return fail(argument_error("Bad BODY parameter"));
      if (iequals(p.value, "7BIT")) {
        out.body = Body::seven_bit;
      } else if (iequals(p.value, "8BITMIME")) {
        out.body = Body::eight_bit_mime;
      } else if (iequals(p.value, "BINARYMIME")) {
        return fail(error(CommandErrorCode::param_unsupported, 504, "5.5.4",
                          "BODY=BINARYMIME is not supported"));
      } else {
        return fail(argument_error("Bad BODY parameter"));
      }
    } else if (p.keyword == "SMTPUTF8") {
      if (p.has_value) return fail(argument_error("SMTPUTF8 takes no value"));
      out.smtputf8 = true;
    } else if (p.keyword == "RET") {
      if (iequals(p.value, "FULL")) {
        out.ret = DsnRet::full;
      } else if (iequals(p.value, "HDRS")) {
        out.ret = DsnRet::hdrs;
      } else {
        return fail(argument_error("Bad RET parameter"));
      }
    } else if (p.keyword == "ENVID") {
      if (!need_value() || p.value.size() > 100 || !valid_xtext(p.value))
        return fail(argument_error("Bad ENVID parameter"));
      out.envid = std::string(p.value);
    } else {
      return fail(unknown_param(p.keyword));
    }
  }
  return out;
}

Result<RcptParams, CommandError> parse_rcpt_params(std::string_view text) {
  auto split = split_params(text);
  if (!split) return fail(split.error());
  RcptParams out;
  for (const auto& p : *split) {
    if (p.keyword == "NOTIFY") {
      if (!p.has_value) return fail(argument_error("Bad NOTIFY parameter"));
      std::string value = to_upper(p.value);
      std::size_t start = 0;
      bool never = false, other = false;
      while (true) {
        std::size_t comma = value.find(',', start);
        std::string item = value.substr(start, comma == value.npos ? value.npos : comma - start);
        if (item == "NEVER") {
          never = true;
        } else if (item == "SUCCESS" || item == "FAILURE" || item == "DELAY") {
          other = true;
        } else {
          return fail(argument_error("Bad NOTIFY parameter"));
        }
        if (comma == value.npos) break;
        start = comma + 1;
      }
      if (never && other) return fail(argument_error("Bad NOTIFY parameter"));
      out.notify = value;
    } else if (p.keyword == "ORCPT") {
      std::size_t semi = p.value.find(';');
      if (!p.has_value || semi == 0 || semi == p.value.npos ||
          !valid_xtext(p.value.substr(semi + 1)) || p.value.size() > 500)
        return fail(argument_error("Bad ORCPT parameter"));
      out.orcpt = std::string(p.value);
    } else {
      return fail(unknown_param(p.keyword));
    }
  }
  return out;
}

// "FROM:" / "TO:" then the path then parameters.
Result<Command, CommandError> parse_path_command(Command cmd, std::string_view args) {
  const bool is_mail = cmd.verb == Verb::mail;
  std::string_view keyword = is_mail ? "FROM:" : "TO:";
  CommandError bad_address =
      is_mail ? error(CommandErrorCode::bad_address, 501, "5.1.7", "Bad sender address syntax")
              : error(CommandErrorCode::bad_address, 501, "5.1.3", "Bad recipient address syntax");
  if (!istarts_with(args, keyword)) {
    if (has_control(args, false)) return fail(syntax_error());
    return fail(
        argument_error(is_mail ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>"));
  }
  args.remove_prefix(keyword.size());
  // Tolerate "MAIL FROM: <a@b>": widespread and unambiguous.
  while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
  std::string_view path, rest;
  if (!take_path(args, path, rest)) return fail(bad_address);
  // A control character (CR, LF, NUL, TAB, ...) in a path must never reach
  // a next hop's conversation, whatever else is wrong with the line.
  if (has_control(path, true)) return fail(bad_address);
  if (has_control(rest, false)) return fail(syntax_error());
  if (!rest.empty() && rest.front() != ' ') return fail(bad_address);
  if (path.empty()) {
    if (!is_mail) return fail(bad_address);
  } else if (!is_mail && iequals(path, "postmaster")) {
    // RFC 5321 4.1.1.3: <Postmaster> without a domain is always accepted.
  } else {
    auto mailbox = parse_mailbox(path, true);
    if (!mailbox) return fail(bad_address);
    // Servers ignore an obsolete source route (RFC 5321 4.1.2 A-d-l, C.2).
    if (!mailbox->source_route.empty()) path.remove_prefix(path.find(':') + 1);
  }
  cmd.address = std::string(path);
  if (is_mail) {
    auto params = parse_mail_params(rest);
    if (!params) return fail(params.error());
    cmd.mail = std::move(*params);
  } else {
    auto params = parse_rcpt_params(rest);
    if (!params) return fail(params.error());
    cmd.rcpt = std::move(*params);
  }
  return cmd;
}

// XFORWARD 1*( SP attribute-name "=" attribute-value ); values xtext,
// decoded values free of controls, non-ASCII, white space and header
// specials (XFORWARD_README, note 1), so that nothing forwarded can forge a
// log line or a header.
Result<Command, CommandError> parse_xforward(Command cmd, std::string_view args) {
  auto bad = [](std::string_view why) {
    return fail(argument_error("Bad XFORWARD syntax: " + std::string(why)));
  };
  std::size_t pos = 0;
  while (pos < args.size()) {
    while (pos < args.size() && args[pos] == ' ') ++pos;
    if (pos >= args.size()) break;
    std::size_t end = args.find(' ', pos);
    std::string_view token = args.substr(pos, end == args.npos ? args.npos : end - pos);
    pos = end == args.npos ? args.size() : end;
    std::size_t eq = token.find('=');
    if (eq == token.npos || eq == 0) return bad("attribute=value expected");
    std::string name = to_upper(token.substr(0, eq));
    if (std::find(kXforwardNames.begin(), kXforwardNames.end(), name) == kXforwardNames.end())
      return bad("unknown attribute " + name);
    std::string_view raw = token.substr(eq + 1);
    if (raw.empty() || raw.size() > kMaxXforwardValue) return bad("bad value length");
    std::string value = xtext_decode(raw);
    if (iequals(value, "[UNAVAILABLE]") || iequals(value, "[TEMPUNAVAIL]")) {
      value.clear();
    } else {
      for (char c : value) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 32 || u >= 127 || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' ||
            c == ';' || c == '"' || c == '\\')
          return bad("bad character in " + name);
      }
      if (name == "ADDR" && value.size() > 5 && iequals(value.substr(0, 5), "IPV6:"))
        value.erase(0, 5);
    }
    cmd.xforward.push_back({std::move(name), std::move(value)});
  }
  if (cmd.xforward.empty()) return bad("no attributes");
  return cmd;
}

}  // namespace

std::string xtext_decode(std::string_view text) {
  auto hex_value = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    int hi = -1, lo = -1;
    if (text[i] == '+' && i + 2 < text.size()) {
      hi = hex_value(text[i + 1]);
      lo = hex_value(text[i + 2]);
    }
    if (hi >= 0 && lo >= 0) {
      out.push_back(static_cast<char>(hi * 16 + lo));
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

std::vector<std::string> format_xforward(const std::vector<XforwardAttribute>& attributes,
                                         const std::vector<std::string>& offered) {
  constexpr std::size_t kMaxLine = 512 - 2;  // RFC 5321 4.5.3.1.4, CRLF excluded
  std::vector<std::string> lines;
  std::string line;
  for (const auto& a : attributes) {
    if (std::find(offered.begin(), offered.end(), a.name) == offered.end()) continue;
    std::string value = a.value.empty() ? "[UNAVAILABLE]" : xtext_encode(a.value);
    if (value.size() > kMaxXforwardValue) value = "[UNAVAILABLE]";
    if (a.name == "ADDR" && !a.value.empty() && a.value.find(':') != std::string::npos)
      value = "IPV6:" + value;
    std::string item = " " + a.name + "=" + value;
    if (!line.empty() && line.size() + item.size() > kMaxLine) {
      lines.push_back(std::move(line));
      line.clear();
    }
    if (line.empty()) line = "XFORWARD";
    line += item;
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

std::string_view to_string(Verb verb) {
  for (const auto& v : kVerbs)
    if (v.verb == verb) return v.name;
  return "?";
}

bool is_valid_mailbox(std::string_view mailbox, bool allow_utf8) {
  // A bare mailbox: no angle brackets, no source route.
  if (mailbox.empty() || mailbox.front() == '<' || mailbox.front() == '@') return false;
  return parse_mailbox(mailbox, allow_utf8).has_value();
}

Result<Command, CommandError> parse_command(std::string_view line) {
  std::size_t verb_end = line.find(' ');
  std::string_view verb_text = line.substr(0, verb_end);
  std::string_view args = verb_end == line.npos ? std::string_view{} : line.substr(verb_end + 1);
  if (verb_text.empty()) return fail(syntax_error());

  const VerbName* found = nullptr;
  for (const auto& v : kVerbs)
    if (iequals(v.name, verb_text)) found = &v;
  if (!found) return fail(syntax_error());
  // Control characters (bare CR/LF, NUL, ...) never belong in a command; TAB
  // is tolerated as a space. MAIL and RCPT check their path first, so a
  // control character there is answered as the address error it is.
  const bool has_path = found->verb == Verb::mail || found->verb == Verb::rcpt;
  if (!has_path && has_control(args, false)) return fail(syntax_error());

  Command cmd;
  cmd.verb = found->verb;
  switch (cmd.verb) {
    case Verb::ehlo:
    case Verb::helo: {
      std::string_view name = trim(args);
      if (name.empty())
        return fail(argument_error("Syntax: " + std::string(found->name) + " hostname"));
      // Be liberal in the name (many clients send bare or odd host names) but
      // it must be one printable token.
      std::size_t space = name.find(' ');
      if (space != name.npos) name = name.substr(0, space);
      cmd.argument = std::string(name);
      return cmd;
    }
    case Verb::mail:
    case Verb::rcpt:
      return parse_path_command(std::move(cmd), args);
    case Verb::data:
    case Verb::rset:
    case Verb::quit:
    case Verb::starttls:
      if (!trim(args).empty()) return fail(argument_error("Syntax: no arguments allowed"));
      return cmd;
    case Verb::vrfy:
      if (trim(args).empty()) return fail(argument_error("Syntax: VRFY address"));
      cmd.argument = std::string(trim(args));
      return cmd;
    case Verb::noop:
    case Verb::help:
      cmd.argument = std::string(trim(args));
      return cmd;
    case Verb::xforward:
      return parse_xforward(std::move(cmd), args);
    case Verb::bdat:
      return fail(error(CommandErrorCode::not_implemented, 502, "5.5.1",
                        "BDAT is not supported (CHUNKING is not offered)"));
    case Verb::expn:
      return fail(error(CommandErrorCode::not_implemented, 502, "5.5.1", "EXPN is not supported"));
  }
  return fail(syntax_error());
}

std::string format_mail_params(const MailParams& p, const OfferedExtensions& offered) {
  std::string out;
  if (p.size && offered.size) out += " SIZE=" + std::to_string(*p.size);
  if (offered.eight_bit_mime) {
    if (p.body == Body::seven_bit) out += " BODY=7BIT";
    if (p.body == Body::eight_bit_mime) out += " BODY=8BITMIME";
  }
  if (p.smtputf8 && offered.smtputf8) out += " SMTPUTF8";
  if (offered.dsn) {
    if (p.ret == DsnRet::full) out += " RET=FULL";
    if (p.ret == DsnRet::hdrs) out += " RET=HDRS";
    if (!p.envid.empty()) out += " ENVID=" + p.envid;
  }
  return out;
}

std::string format_rcpt_params(const RcptParams& p, const OfferedExtensions& offered) {
  std::string out;
  if (offered.dsn) {
    if (!p.notify.empty()) out += " NOTIFY=" + p.notify;
    if (!p.orcpt.empty()) out += " ORCPT=" + p.orcpt;
  }
  return out;
}

}  // namespace cordon::smtp
