// The structure checks behind the private_key identifier on their own:
// base64, DER key structures, the openssh-key-v1 container, OpenPGP
// secret-key packets, and reading a PEM/armored block out of text.
#include "detect/key_formats.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cordon::detect::keys {
namespace {

using namespace std::string_literals;

std::string der(unsigned char tag, const std::string& content) {
  std::string out(1, static_cast<char>(tag));
  const std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else if (n < 0x100) {
    out += "\x81"s + static_cast<char>(n);
  } else {
    out += "\x82"s + static_cast<char>(n >> 8) + static_cast<char>(n & 0xFF);
  }
  return out + content;
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kAlphabet[n & 63] : '=');
  }
  return out;
}

// A PKCS#8-shaped key: SEQUENCE { INTEGER 0, SEQUENCE { OID }, OCTET STRING }.
std::string pkcs8(std::size_t key_bytes = 32) {
  return der(0x30, der(0x02, "\x00"s) + der(0x30, der(0x06, "\x2b\x65\x70")) +
                       der(0x04, std::string(key_bytes, '\x5a')));
}

std::string ssh_string(const std::string& s) {
  const auto n = static_cast<unsigned>(s.size());
  return std::string{static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xFF),
                     static_cast<char>((n >> 8) & 0xFF), static_cast<char>(n & 0xFF)} +
         s;
}

std::string openssh(std::size_t private_bytes = 16) {
  return "openssh-key-v1\0"s + ssh_string("none") + ssh_string("none") + ssh_string("") +
         "\x00\x00\x00\x01"s + ssh_string(ssh_string("ssh-ed25519") + std::string(36, 'k')) +
         ssh_string(std::string(private_bytes, 'p'));
}

std::string pgp_packet(unsigned tag, const std::string& body) {
  return std::string(1, static_cast<char>(0xC0 | tag)) + static_cast<char>(body.size()) + body;
}

// A v4 EdDSA secret-key packet, a user id, a signature.
std::string pgp_key(unsigned tag = 5) {
  return pgp_packet(tag, "\x04\x65\x00\x00\x00\x16"s + std::string(40, 's')) +
         pgp_packet(13, "Test <t@example.com>") + pgp_packet(2, std::string(30, 'g'));
}

TEST(DetectKeyFormats, DecodesBase64GroupsAndRejectsMalformedOnes) {
  EXPECT_EQ(base64_decode("TWFu"), "Man");
  EXPECT_EQ(base64_decode("TWE="), "Ma");
  EXPECT_EQ(base64_decode("TQ=="), "M");
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("TWF"), std::nullopt) << "not whole groups";
  EXPECT_EQ(base64_decode("TQ==TWFu"), std::nullopt) << "padding in the middle";
  EXPECT_EQ(base64_decode("T==="), std::nullopt);
  EXPECT_EQ(base64_decode("TW.u"), std::nullopt);
}

TEST(DetectKeyFormats, DerKeyNeedsASequenceWhoseChildrenTileItExactly) {
  const std::string key = pkcs8();
  EXPECT_EQ(der_key_length(key), key.size());
  EXPECT_EQ(der_key_length(key + "trailing"), key.size()) << "the length says where it ends";
  EXPECT_EQ(der_key_length(key.substr(0, key.size() - 1)), std::nullopt) << "truncated";
  const std::string big = pkcs8(300);  // two-byte long form
  EXPECT_EQ(der_key_length(big), big.size());
  EXPECT_EQ(der_key_length("\x31"s + key.substr(1)), std::nullopt) << "SET, not SEQUENCE";
  EXPECT_EQ(der_key_length(der(0x30, der(0x02, "\x05"s) + der(0x02, "\x01"s))), std::nullopt)
      << "version 5";
  EXPECT_EQ(der_key_length(der(0x30, der(0x02, "\x00"s))), std::nullopt) << "one element";
  EXPECT_EQ(der_key_length(der(0x30, der(0x04, "ab") + der(0x02, "\x00"s))), std::nullopt)
      << "first element neither version nor algorithm";
  // Encrypted PKCS#8: SEQUENCE { SEQUENCE { algorithm }, OCTET STRING }.
  const std::string encrypted = der(0x30, der(0x30, der(0x06, "\x2a\x86")) + der(0x04, "ct"));
  EXPECT_EQ(der_key_length(encrypted), encrypted.size());
  // Non-minimal and indefinite lengths are not DER.
  const std::string body = der(0x02, "\x00"s) + der(0x04, "ab");
  EXPECT_EQ(der_key_length("\x30\x81"s + static_cast<char>(body.size()) + body), std::nullopt);
  EXPECT_EQ(der_key_length("\x30\x80"s + body + "\x00\x00"s), std::nullopt);
  // Children must fit: a child running past the outer end.
  EXPECT_EQ(der_key_length("\x30\x05\x02\x01\x00\x04\x05xx"s), std::nullopt);
  // The placeholders people paste.
  for (const char* placeholder : {"MIIE", "MIIEowIBAAKCAQEA", "xxxxxxxx"}) {
    const auto bytes = base64_decode(placeholder);
    ASSERT_TRUE(bytes) << placeholder;
    EXPECT_EQ(der_key_length(*bytes), std::nullopt) << placeholder;
  }
}

TEST(DetectKeyFormats, OpensshContainerIsParsedToItsEnd) {
  const std::string blob = openssh();
  EXPECT_EQ(openssh_key_length(blob), blob.size());
  EXPECT_EQ(openssh_key_length(blob + "more"), blob.size());
  EXPECT_EQ(openssh_key_length(blob.substr(0, blob.size() - 1)), std::nullopt);
  EXPECT_EQ(openssh_key_length(openssh(13)), std::nullopt) << "private section not padded to 8";
  EXPECT_EQ(openssh_key_length("openssh-key-v1\0\0\0\0"s), std::nullopt) << "magic alone";
  EXPECT_EQ(openssh_key_length("openssh-key-v2" + blob.substr(14)), std::nullopt);
}

TEST(DetectKeyFormats, PgpNeedsASecretKeyPacketFirst) {
  const std::string key = pgp_key();
  EXPECT_EQ(pgp_secret_key_length(key), key.size());
  EXPECT_EQ(pgp_secret_key_length(pgp_key(6)), std::nullopt) << "a public-key packet";
  EXPECT_EQ(pgp_secret_key_length(key.substr(0, 10)), std::nullopt) << "first packet cut";
  // Whole packets only: a cut user id packet ends the run before it.
  const std::size_t first = 2 + 46;
  EXPECT_EQ(pgp_secret_key_length(key.substr(0, first + 5)), first);
  // Old-format header (tag 5, one length byte).
  const std::string old = "\x94"s + static_cast<char>(46) + key.substr(2, 46);
  EXPECT_EQ(pgp_secret_key_length(old), old.size());
  std::string unknown_algorithm = key;
  unknown_algorithm[2 + 5] = 99;
  EXPECT_EQ(pgp_secret_key_length(unknown_algorithm), std::nullopt);
  std::string version2 = key;
  version2[2] = 2;
  EXPECT_EQ(pgp_secret_key_length(version2), std::nullopt);
}

std::string pem(const std::string& label, const std::string& bytes, const std::string& nl = "\n",
                bool end = true) {
  const std::string b64 = base64(bytes);
  std::string out = "-----BEGIN " + label + "-----" + nl;
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + nl;
  if (end) out += "-----END " + label + "-----";
  return out;
}

std::optional<KeyBlock> read(const std::string& text, const std::string& label) {
  const std::size_t marker_end = text.find("-----", text.find("BEGIN")) + 5;
  return read_private_key_block(text, marker_end, label);
}

TEST(DetectKeyFormats, ReadsABlockToItsEndLine) {
  const std::string text = pem("PRIVATE KEY", pkcs8(100)) + "\nbye";
  const auto block = read(text, "PRIVATE KEY");
  ASSERT_TRUE(block);
  EXPECT_TRUE(block->has_end);
  EXPECT_EQ(block->end, text.size() - 4);
  EXPECT_EQ(block->body, base64(pkcs8(100)));
  EXPECT_TRUE(read(pem("PRIVATE KEY", pkcs8(100), "\r\n"), "PRIVATE KEY")) << "CRLF";
  EXPECT_TRUE(read(pem("OPENSSH PRIVATE KEY", openssh()), "OPENSSH PRIVATE KEY"));
  EXPECT_FALSE(read(pem("OPENSSH PRIVATE KEY", pkcs8()), "OPENSSH PRIVATE KEY"));
  EXPECT_FALSE(read(pem("PRIVATE KEY", pkcs8() + "x"), "PRIVATE KEY")) << "bytes after the DER";
  std::string other_end = pem("PRIVATE KEY", pkcs8());
  other_end.replace(other_end.find("END PRIVATE"), 11, "END PUBLIC");
  EXPECT_FALSE(read(other_end, "PRIVATE KEY"));
}

TEST(DetectKeyFormats, WithoutAnEndLineTheStructureSaysWhereTheKeyEnds) {
  const std::string key = pem("PRIVATE KEY", pkcs8(100), "\n", false);
  const auto block = read(key + "\nThanks,\nBob", "PRIVATE KEY");
  ASSERT_TRUE(block);
  EXPECT_FALSE(block->has_end);
  EXPECT_EQ(block->end, key.size() - 1) << "just after the last base64 group";
  EXPECT_FALSE(read(key.substr(0, key.size() - 10) + "\n\nbye", "PRIVATE KEY")) << "cut short";
}

TEST(DetectKeyFormats, ReadsPgpArmorWithHeadersAndChecksum) {
  const std::string b64 = base64(pgp_key());
  const std::string text = "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n" + b64 +
                           "\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----";
  const auto block = read(text, "PGP PRIVATE KEY BLOCK");
  ASSERT_TRUE(block);
  EXPECT_EQ(block->end, text.size());
  EXPECT_EQ(block->body, b64);
}

TEST(DetectKeyFormats, LegacyEncryptedPemIsWholeCipherBlocks) {
  const std::string headers = "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233\n\n";
  auto legacy = [&](std::size_t bytes) {
    return "-----BEGIN RSA PRIVATE KEY-----\n" + headers + base64(std::string(bytes, '\x11')) +
           "\n-----END RSA PRIVATE KEY-----";
  };
  EXPECT_TRUE(read(legacy(128), "RSA PRIVATE KEY"));
  EXPECT_FALSE(read(legacy(130), "RSA PRIVATE KEY")) << "not whole blocks";
  EXPECT_FALSE(read(legacy(32), "RSA PRIVATE KEY")) << "too short for any key";
}

TEST(DetectKeyFormats, CutOrCorruptedBlocksNeverReadPastTheText) {
  const std::string b64 = base64(pgp_key());
  const std::vector<std::pair<std::string, std::string>> blocks = {
      {pem("PRIVATE KEY", pkcs8(200)), "PRIVATE KEY"},
      {pem("OPENSSH PRIVATE KEY", openssh()), "OPENSSH PRIVATE KEY"},
      {"-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: x\n\n" + b64 +
           "\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----",
       "PGP PRIVATE KEY BLOCK"},
  };
  for (const auto& [text, label] : blocks) {
    const std::size_t marker_end = text.find("-----", 5) + 5;
    for (std::size_t cut = marker_end; cut <= text.size(); ++cut) {
      // An allocation of exactly `cut` bytes, so ASan sees any overread.
      const auto bytes = std::make_unique<char[]>(cut);
      std::memcpy(bytes.get(), text.data(), cut);
      const std::string_view prefix(bytes.get(), cut);
      const auto block = read_private_key_block(prefix, marker_end, label);
      if (block) {
        EXPECT_LE(block->end, prefix.size());
      }
    }
    for (std::size_t i = marker_end; i < text.size(); i += 7) {
      std::string corrupted = text;
      corrupted[i] = static_cast<char>(corrupted[i] ^ 0x5A);
      const auto block = read_private_key_block(corrupted, marker_end, label);
      if (block) {
        EXPECT_LE(block->end, corrupted.size());
      }
    }
  }
}

}  // namespace
}  // namespace cordon::detect::keys
