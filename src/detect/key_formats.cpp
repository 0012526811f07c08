// PEM / OpenPGP armor reading and the binary structure checks of private
// keys (DER, openssh-key-v1, OpenPGP packets). Every length read from the
// data is checked against what is there before it is used.
#include "detect/key_formats.hpp"

#include <cstdint>
#include <vector>

#include "detect/detail/text.hpp"

namespace cordon::detect::keys {
namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

unsigned byte(std::string_view s, std::size_t i) {
  return static_cast<unsigned char>(s[i]);
}

struct Tlv {
  unsigned tag = 0;
  std::size_t header = 0;
  std::size_t length = 0;
  std::size_t total() const { return header + length; }
};

// A DER element at `pos` that ends at or before `limit`.
std::optional<Tlv> read_tlv(std::string_view der, std::size_t pos, std::size_t limit) {
  if (limit > der.size() || pos + 2 > limit) return std::nullopt;
  Tlv t;
  t.tag = byte(der, pos);
  if ((t.tag & 0x1F) == 0x1F) return std::nullopt;  // high tag numbers: no key uses them
  const unsigned first = byte(der, pos + 1);
  if (first < 0x80) {
    t.header = 2;
    t.length = first;
  } else {
    const std::size_t n = first & 0x7F;
    if (n == 0 || n > 4 || pos + 2 + n > limit) return std::nullopt;  // indefinite or huge
    if (byte(der, pos + 2) == 0) return std::nullopt;                 // not minimal
    for (std::size_t i = 0; i < n; ++i) t.length = (t.length << 8) | byte(der, pos + 2 + i);
    if (t.length < 0x80) return std::nullopt;  // short form was required
    t.header = 2 + n;
  }
  if (t.length > limit - pos - t.header) return std::nullopt;
  return t;
}

std::optional<std::uint32_t> read_u32(std::string_view s, std::size_t& pos) {
  if (pos + 4 > s.size()) return std::nullopt;
  const std::uint32_t v =
      (byte(s, pos) << 24) | (byte(s, pos + 1) << 16) | (byte(s, pos + 2) << 8) | byte(s, pos + 3);
  pos += 4;
  return v;
}

// An SSH "string": uint32 length, then that many bytes.
std::optional<std::string_view> read_ssh_string(std::string_view s, std::size_t& pos) {
  const auto n = read_u32(s, pos);
  if (!n || *n > s.size() - pos) return std::nullopt;
  const std::string_view out = s.substr(pos, *n);
  pos += *n;
  return out;
}

bool printable_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (const char c : s)
    if (c <= 0x20 || c >= 0x7F) return false;
  return true;
}

struct Packet {
  unsigned tag = 0;
  std::size_t header = 0;
  std::size_t length = 0;
};

std::optional<Packet> read_packet(std::string_view s, std::size_t pos) {
  if (pos >= s.size()) return std::nullopt;
  const unsigned b = byte(s, pos);
  if (!(b & 0x80)) return std::nullopt;
  Packet p;
  auto need = [&](std::size_t n) { return pos + n <= s.size(); };
  if (b & 0x40) {  // new format
    p.tag = b & 0x3F;
    if (!need(2)) return std::nullopt;
    const unsigned l1 = byte(s, pos + 1);
    if (l1 < 192) {
      p.header = 2;
      p.length = l1;
    } else if (l1 < 224) {
      if (!need(3)) return std::nullopt;
      p.header = 3;
      p.length = ((l1 - 192) << 8) + byte(s, pos + 2) + 192;
    } else if (l1 == 255) {
      if (!need(6)) return std::nullopt;
      p.header = 6;
      std::size_t q = pos + 2;
      p.length = *read_u32(s, q);
    } else {
      return std::nullopt;  // partial body lengths: not used for keys
    }
  } else {  // old format
    p.tag = (b >> 2) & 0x0F;
    const unsigned type = b & 0x03;
    if (type == 3) return std::nullopt;  // indeterminate length
    const std::size_t n = type == 0 ? 1 : type == 1 ? 2 : 4;
    if (!need(1 + n)) return std::nullopt;
    p.header = 1 + n;
    for (std::size_t i = 0; i < n; ++i) p.length = (p.length << 8) | byte(s, pos + 1 + i);
  }
  if (p.tag == 0 || p.length > s.size() - pos - p.header) return std::nullopt;
  return p;
}

bool known_pgp_algorithm(unsigned a) {
  switch (a) {
    case 1:   // RSA
    case 2:   // RSA encrypt-only
    case 3:   // RSA sign-only
    case 16:  // Elgamal
    case 17:  // DSA
    case 18:  // ECDH
    case 19:  // ECDSA
    case 22:  // EdDSA (legacy)
    case 25:  // X25519
    case 26:  // X448
    case 27:  // Ed25519
    case 28:  // Ed448
      return true;
    default:
      return false;
  }
}

// ---- armor reading ----

// White space, and JSON/C string escapes of line breaks and tabs ("\n").
std::size_t separator_length(std::string_view t, std::size_t pos) {
  const char c = t[pos];
  if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return 1;
  if (c == '\\' && pos + 1 < t.size() &&
      (t[pos + 1] == 'n' || t[pos + 1] == 'r' || t[pos + 1] == 't'))
    return 2;
  return 0;
}

bool is_line_break(std::string_view t, std::size_t pos) {
  return t[pos] == '\n' || t[pos] == '\r' ||
         (t[pos] == '\\' && pos + 1 < t.size() && (t[pos + 1] == 'n' || t[pos + 1] == 'r'));
}

// "\r\n", "\n", "\r" or their escaped forms, as one line break.
std::size_t line_break_length(std::string_view t, std::size_t pos) {
  if (t[pos] == '\r') return pos + 1 < t.size() && t[pos + 1] == '\n' ? 2 : 1;
  if (t[pos] == '\n') return 1;
  if (t.substr(pos, 4) == "\\r\\n") return 4;
  return 2;  // an escaped "\n" or "\r"
}

// "Name: value" (RFC 1421 and OpenPGP armor headers): a name of letters,
// digits and '-', then ':'. Base64 never holds ':', so a body line cannot
// be taken for a header.
bool header_at(std::string_view t, std::size_t pos) {
  std::size_t i = pos;
  while (i < t.size() && (text::is_ascii_alnum(t[i]) || t[i] == '-')) ++i;
  return i > pos && i < t.size() && t[i] == ':' && text::is_ascii_upper(t[pos]);
}

std::size_t skip_separators(std::string_view t, std::size_t pos) {
  while (pos < t.size()) {
    const std::size_t n = separator_length(t, pos);
    if (n == 0) break;
    pos += n;
  }
  return pos;
}

enum class KeyKind { der, openssh, pgp };

KeyKind kind_of(std::string_view label) {
  if (label.starts_with("PGP ")) return KeyKind::pgp;
  if (label.starts_with("OPENSSH ")) return KeyKind::openssh;
  return KeyKind::der;
}

// How far the decoded structure reaches, nullopt when it is no key.
std::optional<std::size_t> structure_length(KeyKind kind, std::string_view decoded) {
  switch (kind) {
    case KeyKind::der:
      return der_key_length(decoded);
    case KeyKind::openssh:
      return openssh_key_length(decoded);
    case KeyKind::pgp:
      return pgp_secret_key_length(decoded);
  }
  return std::nullopt;
}

// A body is read no further than this: the body of a 16384-bit RSA key is
// ~13,000 characters, and a large OpenPGP key with many subkeys stays well
// below it.
constexpr std::size_t kMaxBodyChars = 1 << 20;

}  // namespace

std::optional<std::string> base64_decode(std::string_view chars) {
  if (chars.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(chars.size() / 4 * 3);
  for (std::size_t i = 0; i < chars.size(); i += 4) {
    const bool last = i + 4 == chars.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = chars[i + static_cast<std::size_t>(k)];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // data after padding
      v[k] = base64_value(c);
      if (v[k] < 0) return std::nullopt;
    }
    const std::uint32_t n =
        (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
        (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<char>((n >> 16) & 0xFF));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xFF));
  }
  return out;
}

std::optional<std::size_t> der_key_length(std::string_view der) {
  const auto outer = read_tlv(der, 0, der.size());
  if (!outer || outer->tag != 0x30) return std::nullopt;
  const std::size_t end = outer->total();
  std::size_t pos = outer->header;
  std::size_t children = 0;
  while (pos < end) {
    const auto child = read_tlv(der, pos, end);
    if (!child) return std::nullopt;
    if (children == 0) {
      const bool version = child->tag == 0x02 && child->length == 1 && byte(der, pos + 2) <= 1;
      if (!version && child->tag != 0x30) return std::nullopt;
    }
    pos += child->total();
    ++children;
  }
  if (children < 2) return std::nullopt;
  return end;
}

std::optional<std::size_t> openssh_key_length(std::string_view blob) {
  static constexpr std::string_view kMagic("openssh-key-v1\0", 15);
  if (!blob.starts_with(kMagic)) return std::nullopt;
  std::size_t pos = kMagic.size();
  const auto cipher = read_ssh_string(blob, pos);
  const auto kdf = cipher ? read_ssh_string(blob, pos) : std::nullopt;
  const auto kdf_options = kdf ? read_ssh_string(blob, pos) : std::nullopt;
  if (!kdf_options || !printable_name(*cipher) || !printable_name(*kdf)) return std::nullopt;
  const auto keys = read_u32(blob, pos);
  if (!keys || *keys == 0 || *keys > 64) return std::nullopt;
  for (std::uint32_t i = 0; i < *keys; ++i) {
    const auto public_key = read_ssh_string(blob, pos);
    if (!public_key || public_key->empty()) return std::nullopt;
  }
  const auto private_section = read_ssh_string(blob, pos);
  if (!private_section || private_section->empty() || private_section->size() % 8 != 0)
    return std::nullopt;
  return pos;
}

std::optional<std::size_t> pgp_secret_key_length(std::string_view packets) {
  const auto first = read_packet(packets, 0);
  if (!first || first->tag != 5 || first->length < 6) return std::nullopt;
  const unsigned version = byte(packets, first->header);
  if (version < 3 || version > 6) return std::nullopt;
  // v3: version, created (4), validity days (2), algorithm; v4-v6:
  // version, created (4), algorithm.
  const std::size_t algorithm_at = first->header + (version == 3 ? 7 : 5);
  if (algorithm_at >= first->header + first->length) return std::nullopt;
  if (!known_pgp_algorithm(byte(packets, algorithm_at))) return std::nullopt;
  std::size_t pos = first->header + first->length;
  while (pos < packets.size()) {
    const auto next = read_packet(packets, pos);
    if (!next) break;
    pos += next->header + next->length;
  }
  return pos;
}

std::optional<KeyBlock> read_private_key_block(std::string_view t, std::size_t marker_end,
                                               std::string_view label) {
  const KeyKind kind = kind_of(label);
  std::size_t pos = marker_end;
  // Headers, each on a line of its own, before the body.
  bool legacy_encrypted = false;
  for (;;) {
    pos = skip_separators(t, pos);
    if (pos >= t.size() || !header_at(t, pos)) break;
    const std::size_t line = pos;
    while (pos < t.size() && !is_line_break(t, pos)) ++pos;
    const std::string_view header = t.substr(line, pos - line);
    if (header.starts_with("Proc-Type:") && header.find("ENCRYPTED") != std::string_view::npos)
      legacy_encrypted = true;
  }
  if (legacy_encrypted && kind != KeyKind::der) return std::nullopt;

  // The body, line by line: a line of base64 characters (spaces and tabs
  // between them allowed) is part of it; an empty line, or a line holding
  // anything else, ends it. The END line may follow on the body's last line.
  KeyBlock block;
  std::vector<std::size_t> char_end;  // text offset just after each body character
  bool padded = false;
  while (pos < t.size() && block.body.size() < kMaxBodyChars) {
    const std::size_t line_start = pos, body_before = block.body.size();
    bool junk = false, end_marker = false;
    while (pos < t.size() && !is_line_break(t, pos)) {
      if (const std::size_t n = separator_length(t, pos); n > 0) {
        pos += n;  // a space, a tab
        continue;
      }
      char c = t[pos];
      std::size_t width = 1;
      if (c == '\\' && pos + 1 < t.size() && t[pos + 1] == '/') {  // JSON's escaped '/'
        c = '/';
        width = 2;
      }
      if (c == '-') {
        end_marker = true;
        break;
      }
      if (c == '=' && block.body.size() % 4 >= 2) {
        padded = true;
      } else if (c == '=' || base64_value(c) < 0 || padded) {
        junk = true;  // an OpenPGP CRC line, text after the key, ...
        break;
      }
      block.body.push_back(c);
      pos += width;
      char_end.push_back(pos);
    }
    if (junk) {
      block.body.resize(body_before);
      char_end.resize(body_before);
      padded = false;  // any padding was on this line
      pos = line_start;
      break;
    }
    const bool empty = block.body.size() == body_before;
    if (end_marker || (empty && body_before > 0) || pos >= t.size()) break;
    pos += line_break_length(t, pos);
    if (padded) break;
  }
  // An OpenPGP armor checksum: "=" and four base64 characters.
  std::size_t after = skip_separators(t, pos);
  if (kind == KeyKind::pgp && after < t.size() && t[after] == '=' && block.body.size() % 4 == 0) {
    std::size_t crc = after + 1;
    while (crc < t.size() && crc - after <= 4 && base64_value(t[crc]) >= 0) ++crc;
    if (crc - after == 5) after = skip_separators(t, crc);
  }

  constexpr std::string_view kEnd = "-----END ";
  if (t.substr(after, kEnd.size()) == kEnd) {
    const std::string_view rest = t.substr(after + kEnd.size());
    if (!rest.starts_with(label) || rest.substr(label.size(), 5) != "-----") return std::nullopt;
    block.has_end = true;
    block.end = after + kEnd.size() + label.size() + 5;
    const auto decoded = base64_decode(block.body);
    if (!decoded) return std::nullopt;
    if (legacy_encrypted) {
      if (decoded->size() < 64 || decoded->size() % 8 != 0) return std::nullopt;
      return block;
    }
    const auto length = structure_length(kind, *decoded);
    if (!length || *length != decoded->size()) return std::nullopt;
    return block;
  }

  // No END line: the block is as long as the structure the body encodes.
  if (legacy_encrypted) return std::nullopt;
  const std::size_t whole_groups = block.body.size() / 4 * 4;
  const auto decoded = base64_decode(std::string_view(block.body).substr(0, whole_groups));
  if (!decoded) return std::nullopt;
  const auto length = structure_length(kind, *decoded);
  if (!length) return std::nullopt;
  std::size_t chars = (*length + 2) / 3 * 4;
  // The group holding the last byte may hold the next structure's first
  // bits; never cut into a group, and never end before trailing padding.
  if (chars > whole_groups) return std::nullopt;
  block.body.resize(chars);
  block.end = char_end[chars - 1];
  return block;
}

}  // namespace cordon::detect::keys
