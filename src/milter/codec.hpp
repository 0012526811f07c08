// The milter protocol's wire format (Sendmail's libmilter protocol, version
// 6, as Postfix and Sendmail speak it): frames, the command and reply
// codes, the negotiation flags, and encoders and decoders of the payloads.
// Pure functions on bytes; no I/O and no policy.
//
// A frame is a 4-byte big-endian length, then that many bytes: a one-byte
// command (MTA to filter, SMFIC_*) or reply (filter to MTA, SMFIR_*)
// followed by its data. Strings in the data are NUL-terminated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace cordon::milter {

inline constexpr std::uint32_t kProtocolVersion = 6;

// Commands, MTA to filter.
namespace cmd {
inline constexpr char abort = 'A';
inline constexpr char body = 'B';
inline constexpr char connect = 'C';
inline constexpr char macro = 'D';
inline constexpr char body_eob = 'E';
inline constexpr char helo = 'H';
inline constexpr char quit_nc = 'K';
inline constexpr char header = 'L';
inline constexpr char mail = 'M';
inline constexpr char eoh = 'N';
inline constexpr char optneg = 'O';
inline constexpr char quit = 'Q';
inline constexpr char rcpt = 'R';
inline constexpr char data = 'T';
inline constexpr char unknown = 'U';
}  // namespace cmd

// Replies, filter to MTA.
namespace reply {
inline constexpr char add_rcpt = '+';
inline constexpr char del_rcpt = '-';
inline constexpr char accept = 'a';
inline constexpr char continue_ = 'c';
inline constexpr char discard = 'd';
inline constexpr char add_header = 'h';
inline constexpr char ins_header = 'i';
inline constexpr char chg_header = 'm';
inline constexpr char progress = 'p';
inline constexpr char quarantine = 'q';
inline constexpr char reject = 'r';
inline constexpr char tempfail = 't';
inline constexpr char reply_code = 'y';
}  // namespace reply

// Actions the filter may take at end of message (SMFIF_*).
namespace action {
inline constexpr std::uint32_t add_headers = 1u << 0;
inline constexpr std::uint32_t change_body = 1u << 1;
inline constexpr std::uint32_t add_rcpt = 1u << 2;
inline constexpr std::uint32_t del_rcpt = 1u << 3;
inline constexpr std::uint32_t change_headers = 1u << 4;
inline constexpr std::uint32_t quarantine = 1u << 5;
}  // namespace action

// Protocol steps the filter does not want (SMFIP_NO*), replies it will not
// send (SMFIP_NR_*), and the header value form (SMFIP_HDR_LEADSPC).
namespace step {
inline constexpr std::uint32_t no_connect = 1u << 0;
inline constexpr std::uint32_t no_helo = 1u << 1;
inline constexpr std::uint32_t no_mail = 1u << 2;
inline constexpr std::uint32_t no_rcpt = 1u << 3;
inline constexpr std::uint32_t no_body = 1u << 4;
inline constexpr std::uint32_t no_headers = 1u << 5;
inline constexpr std::uint32_t no_eoh = 1u << 6;
inline constexpr std::uint32_t nr_header = 1u << 7;
inline constexpr std::uint32_t no_unknown = 1u << 8;
inline constexpr std::uint32_t no_data = 1u << 9;
inline constexpr std::uint32_t skip = 1u << 10;
inline constexpr std::uint32_t rcpt_rejected = 1u << 11;
inline constexpr std::uint32_t nr_connect = 1u << 12;
inline constexpr std::uint32_t nr_helo = 1u << 13;
inline constexpr std::uint32_t nr_mail = 1u << 14;
inline constexpr std::uint32_t nr_rcpt = 1u << 15;
inline constexpr std::uint32_t nr_data = 1u << 16;
inline constexpr std::uint32_t nr_unknown = 1u << 17;
inline constexpr std::uint32_t nr_eoh = 1u << 18;
inline constexpr std::uint32_t nr_body = 1u << 19;
inline constexpr std::uint32_t header_leading_space = 1u << 20;
}  // namespace step

struct Frame {
  char code = 0;     // command or reply byte
  std::string data;  // what follows it
};

// The frame as it goes on the wire. `data` longer than a frame can carry is
// the caller's bug; the encoders below never produce one.
std::string encode(char code, std::string_view data = {});

enum class FrameError {
  empty,      // a length of 0: no command byte
  oversized,  // a length above the decoder's limit
};
std::string_view describe(FrameError error);

// Splits a byte stream into frames. feed() appends what the socket read;
// next() returns the next complete frame, nullopt while one is incomplete,
// or an error (after which the stream cannot be resynchronised: close it).
// An oversized length is refused as soon as its 4 bytes arrive, before any
// of its data is buffered.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_frame_bytes) : max_(max_frame_bytes) {}
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  Result<std::optional<Frame>, FrameError> next();
  // The length the last oversized frame announced.
  std::uint64_t refused_length() const { return refused_; }
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::size_t max_;
  std::string buffer_;
  std::size_t consumed_ = 0;
  std::uint64_t refused_ = 0;
};

// Payload decoders. Each refuses data that does not have the shape the
// protocol gives its command (a missing NUL, a short number).
enum class PayloadError { truncated, unterminated };
std::string_view describe(PayloadError error);

struct OptionNegotiation {
  std::uint32_t version = 0;
  std::uint32_t actions = 0;   // SMFIF_* the MTA allows
  std::uint32_t protocol = 0;  // SMFIP_* the MTA can honour
};
Result<OptionNegotiation, PayloadError> decode_optneg(std::string_view data);
std::string encode_optneg(const OptionNegotiation& negotiation);

// SMFIC_MACRO: the command the macros belong to, then name/value pairs.
// Empty data (no command byte) is a packet without macros. Names keep
// their braces as sent ("{auth_authen}", "i").
struct Macros {
  char for_command = 0;
  std::vector<std::pair<std::string, std::string>> values;
};
Result<Macros, PayloadError> decode_macros(std::string_view data);

// SMFIC_CONNECT: host name, address family ('4', '6', 'L' unix, 'U'
// unknown), and for all but 'U' the port and the address.
struct Connect {
  std::string hostname;
  char family = 'U';
  std::uint16_t port = 0;
  std::string address;
};
Result<Connect, PayloadError> decode_connect(std::string_view data);

// A run of NUL-terminated strings (SMFIC_HELO, MAIL, RCPT, UNKNOWN: the
// first is the argument, the rest ESMTP parameters).
Result<std::vector<std::string>, PayloadError> decode_strings(std::string_view data);

// SMFIC_HEADER: name and value.
Result<std::pair<std::string, std::string>, PayloadError> decode_header(std::string_view data);

// Replies with data, ready for the wire.
std::string encode_reply_code(std::string_view smtp_reply);  // "550-5.7.0 ...\r\n550 5.7.0 ..."
std::string encode_add_header(std::string_view name, std::string_view value);
// Index 0: above the first header.
std::string encode_insert_header(std::uint32_t index, std::string_view name,
                                 std::string_view value);
// Index 1: the first header of that name; an empty value deletes it.
std::string encode_change_header(std::uint32_t index, std::string_view name,
                                 std::string_view value);
std::string encode_add_recipient(std::string_view address);
std::string encode_delete_recipient(std::string_view address);
std::string encode_quarantine(std::string_view reason);

// A multi-line SMTP reply (CRLF-separated lines, each "CODE-ENH text" or
// "CODE ENH text") in the form SMFIR_REPLYCODE carries: every '%' doubled
// (the MTA reads the reply as a format string), no trailing CRLF, and no
// NUL. Lines are kept as they are otherwise.
std::string reply_code_text(std::string_view smtp_reply);

}  // namespace cordon::milter
