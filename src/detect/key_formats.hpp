// Structural checks behind the private_key identifier: a PEM or OpenPGP
// armored block is a key only when its base64 body decodes to the binary
// structure its label promises (DER SEQUENCE for PKCS#1/PKCS#8/SEC 1/DSA,
// the openssh-key-v1 container, an OpenPGP secret-key packet). Placeholder
// bodies ("MIIE...", "xxxx", "<your key here>") fail these checks.
// Internal to src/detect; pure functions, unit-tested on their own.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cordon::detect::keys {

// RFC 4648 base64 of complete 4-character groups (padding only in the last
// group); nullopt when malformed. `chars` holds no white space.
std::optional<std::string> base64_decode(std::string_view chars);

// Length of the DER private-key structure at the start of `der`: a
// SEQUENCE with a definite, minimally encoded length that fits in `der`,
// whose content is exactly tiled by at least two well-formed elements, the
// first a version INTEGER 0 or 1 (PKCS#1, PKCS#8, SEC 1, DSA) or a
// SEQUENCE (the algorithm of an encrypted PKCS#8 key). nullopt otherwise.
std::optional<std::size_t> der_key_length(std::string_view der);

// Length of the openssh-key-v1 container at the start of `blob` (magic,
// cipher, KDF, KDF options, 1-64 public keys, a private section padded to
// 8 bytes), if it is complete and fits in `blob`.
std::optional<std::size_t> openssh_key_length(std::string_view blob);

// Length of the run of whole OpenPGP packets at the start of `packets`
// (RFC 9580 old and new headers, no partial lengths) when the first is a
// secret-key packet (tag 5) of version 3 to 6 with a known public-key
// algorithm; nullopt otherwise.
std::optional<std::size_t> pgp_secret_key_length(std::string_view packets);

// A private key block found in text.
struct KeyBlock {
  std::size_t end = 0;   // half-open end in the text: after the END line,
                         // or after the key's last base64 group without one
  std::string body;      // the base64 characters of the key
  bool has_end = false;  // the matching END line was present
};

// Reads the block whose "-----BEGIN <label>-----" line ends at
// `marker_end`: optional headers (RFC 1421 Proc-Type/DEK-Info, OpenPGP
// armor headers), the base64 body (line breaks, indentation and JSON "\n"
// escapes between characters are allowed), an OpenPGP CRC line, and the
// "-----END <label>-----" line. The body must decode to the structure of
// its label (above); the legacy encrypted form (Proc-Type: 4,ENCRYPTED)
// must be whole cipher blocks of at least 64 bytes and have its END line.
// Without an END line the block ends where the decoded structure ends.
// nullopt when the body is no key or an END line has another label.
std::optional<KeyBlock> read_private_key_block(std::string_view text, std::size_t marker_end,
                                               std::string_view label);

}  // namespace cordon::detect::keys
