// Content-Transfer-Encoding decoders (base64, quoted-printable, uuencode)
// written for hostile input: they never fail, skip what they cannot read,
// count it, and stop at an output cap so memory stays bounded.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::mime::detail {

enum class TransferEncoding { identity, base64, quoted_printable, uuencode };

// Maps a Content-Transfer-Encoding value (any case, surrounding space
// allowed) to a decoder; 7bit, 8bit, binary and unknown values are identity.
// `known` is set to false for a value cordon does not recognise.
TransferEncoding transfer_encoding_from_name(std::string_view value, bool& known);

struct DecodeReport {
  std::size_t invalid_chars = 0;  // characters skipped (outside the alphabet, bad escapes)
  bool truncated = false;         // output reached max_output; the rest was not decoded
  bool incomplete = false;        // base64 ended mid-quantum, uuencode without begin/end
};

// Decodes `encoded` into `out` (appending), writing at most max_output bytes.
void decode_transfer(std::string_view encoded, TransferEncoding encoding, std::size_t max_output,
                     std::string& out, DecodeReport& report);

// A uuencoded file written inline in text: "begin 644 NAME" ... "end".
struct UuencodedBlock {
  std::string name;          // from the begin line, may be empty
  std::string_view encoded;  // from the begin line to the end line (or the text's end)
};

// The uuencoded blocks of `text`, at most `max_blocks` of them; `more` is
// set when there were more.
std::vector<UuencodedBlock> find_uuencoded_blocks(std::string_view text, std::size_t max_blocks,
                                                  bool& more);

// For a part whose Content-Transfer-Encoding is not one cordon knows: the
// encoding its content plainly is -- base64 (only the base64 alphabet,
// lines of even length) or quoted-printable (valid =XX escapes or soft
// line breaks, no other '=') -- or identity when it is neither.
TransferEncoding guess_transfer_encoding(std::string_view body);

}  // namespace cordon::mime::detail
