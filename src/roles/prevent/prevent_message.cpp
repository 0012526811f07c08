// Raw-message helpers of the prevent role: header scanning, content hash,
// loop detection and the modify rewrite (see prevent_message.hpp).
#include "roles/prevent/prevent_message.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>

namespace cordon::roles::prevent {
namespace {

// One top-level header field: [begin, end) covers the field and its
// continuation lines including their line ends.
struct Field {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string_view name;
  std::size_t value_begin = 0;  // just after the colon
};

struct HeaderBlock {
  std::vector<Field> fields;
  std::size_t body = 0;  // first body byte
};

std::size_t line_end(std::string_view text, std::size_t from) {
  auto nl = text.find('\n', from);
  return nl == std::string_view::npos ? text.size() : nl + 1;
}

bool is_blank_line(std::string_view line) {
  return line == "\r\n" || line == "\n";
}

// Splits the top-level header block. A line that is neither a field nor a
// continuation ends the block (the body starts there), as mail readers do.
HeaderBlock split_headers(std::string_view message) {
  HeaderBlock block;
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t end = line_end(message, pos);
    std::string_view line = message.substr(pos, end - pos);
    if (is_blank_line(line)) {
      block.body = end;
      return block;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !block.fields.empty()) {
      block.fields.back().end = end;
      pos = end;
      continue;
    }
    auto colon = line.find(':');
    auto name = line.substr(0, colon);
    bool valid_name =
        colon != std::string_view::npos && colon > 0 &&
        std::all_of(name.begin(), name.end(), [](char c) { return c > 32 && c < 127; });
    if (!valid_name) {
      block.body = pos;
      return block;
    }
    block.fields.push_back(Field{pos, end, name, pos + colon + 1});
    pos = end;
  }
  block.body = message.size();
  return block;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_trace_header(std::string_view name) {
  static constexpr std::array<std::string_view, 5> kTrace = {
      "Received", "Return-Path", "Delivered-To", "X-Original-To", kInspectedHeader};
  return std::any_of(kTrace.begin(), kTrace.end(),
                     [&](std::string_view t) { return iequals(name, t); });
}

std::string single_line(std::string_view text) {
  std::string out(text);
  std::replace(out.begin(), out.end(), '\r', ' ');
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

// The line end the message itself uses, so added headers match it.
std::string_view line_ending(std::string_view message) {
  auto nl = message.find('\n');
  return (nl != std::string_view::npos && nl > 0 && message[nl - 1] == '\r') ||
                 nl == std::string_view::npos
             ? "\r\n"
             : "\n";
}

struct DigestFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

// 128 bits of HMAC-SHA256: plenty against forgery, short in a header.
std::string mac(std::string_view key, std::string_view content_hash) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(content_hash.data()), content_hash.size(),
            out.data(), &length))
    return {};
  return to_hex(out.data(), std::min<std::size_t>(length, 16));
}

}  // namespace

std::size_t body_offset(std::string_view message) {
  return split_headers(message).body;
}

bool inspected_by(std::string_view message, const Deployment& deployment) {
  std::string expected;
  for (const auto& field : split_headers(message).fields) {
    if (!iequals(field.name, kInspectedHeader)) continue;
    std::string_view value = message.substr(field.value_begin, field.end - field.value_begin);
    auto start = value.find_first_not_of(" \t");
    if (start == std::string_view::npos) continue;
    value.remove_prefix(start);
    const std::string_view id = deployment.id;
    if (value.size() <= id.size() || value.substr(0, id.size()) != id || value[id.size()] != ';')
      continue;
    auto at = value.find("; mac=");
    if (at == std::string_view::npos) continue;
    std::string_view given = value.substr(at + 6);
    given = given.substr(0, given.find_first_of("; \t\r\n"));
    if (expected.empty()) expected = mac(deployment.key, content_hash(message));
    if (given.size() == expected.size() &&
        CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0)
      return true;
  }
  return false;
}

std::string content_hash(std::string_view message) {
  std::unique_ptr<EVP_MD_CTX, DigestFree> ctx(EVP_MD_CTX_new());
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return {};
  HeaderBlock block = split_headers(message);
  for (const auto& field : block.fields) {
    if (is_trace_header(field.name)) continue;
    EVP_DigestUpdate(ctx.get(), message.data() + field.begin, field.end - field.begin);
  }
  // The separator and body, whatever precedes them.
  std::size_t header_end = block.fields.empty() ? 0 : block.fields.back().end;
  EVP_DigestUpdate(ctx.get(), message.data() + header_end, message.size() - header_end);
  if (EVP_DigestFinal_ex(ctx.get(), digest.data(), &length) != 1) return {};
  return to_hex(digest.data(), length);
}

std::string stamp(std::string_view message, const Deployment& deployment, std::string_view verdict,
                  std::optional<std::int64_t> incident) {
  std::string header =
      std::string(kInspectedHeader) + ": " + deployment.id + "; " + std::string(verdict);
  if (incident) header += "; incident=" + std::to_string(*incident);
  header += "; mac=" + mac(deployment.key, content_hash(message));
  return rewrite(message, {{header}, {}});
}

std::string rewrite(std::string_view message, const Rewrite& rewrite) {
  const std::string_view eol = line_ending(message);
  std::string out;
  out.reserve(message.size() + 256);
  for (const auto& header : rewrite.prepend_headers) {
    out += single_line(header);
    out += eol;
  }
  const std::string prefix = single_line(rewrite.subject_prefix);
  if (prefix.empty()) {
    out += message;
    return out;
  }
  HeaderBlock block = split_headers(message);
  auto subject = std::find_if(block.fields.begin(), block.fields.end(),
                              [](const Field& f) { return iequals(f.name, "Subject"); });
  if (subject == block.fields.end()) {
    std::string trimmed = prefix;
    while (!trimmed.empty() && trimmed.back() == ' ') trimmed.pop_back();
    out += "Subject: " + trimmed;
    out += eol;
    out += message;
    return out;
  }
  std::size_t value = subject->value_begin;
  while (value < subject->end && (message[value] == ' ' || message[value] == '\t')) ++value;
  out += message.substr(0, subject->value_begin);
  out += ' ';
  if (message.substr(value).substr(0, prefix.size()) != prefix) out += prefix;
  out += message.substr(value);
  return out;
}

}  // namespace cordon::roles::prevent
