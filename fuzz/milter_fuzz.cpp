// libFuzzer target for the milter frame decoder and session: any byte
// stream from an MTA must decode without a crash, a hang or unbounded
// buffering, and everything the session answers must itself be a stream of
// well-formed frames. The first input byte splits the rest into feeds of
// varying size, so frames arrive cut anywhere. Build and run: fuzz/run.sh
// 10 milter_fuzz
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "milter/codec.hpp"
#include "milter/session.hpp"

namespace m = cordon::milter;

namespace {

// What the session wrote must decode completely into frames.
void check_output(const std::string& out) {
  m::FrameDecoder d(1 << 24);
  d.feed(out);
  for (;;) {
    auto f = d.next();
    if (!f) std::abort();
    if (!*f) break;
  }
  if (d.buffered() != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 97;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  constexpr std::size_t kMaxFrame = 4096;
  m::FrameDecoder decoder(kMaxFrame);
  m::Session session(m::SessionOptions{.max_message_bytes = 8192});
  int decisions = 0;
  for (std::size_t at = 0; at < input.size(); at += step) {
    decoder.feed(input.substr(at, step));
    if (decoder.buffered() > kMaxFrame + 4 + step) std::abort();
    for (;;) {
      auto frame = decoder.next();
      if (!frame) return 0;  // the runner closes the connection here
      if (!*frame) break;
      m::Step s = session.on_frame(**frame);
      check_output(s.output);
      if (s.message) {
        if (s.message->content.size() > 8192) std::abort();
        m::Decision d;
        switch (decisions++ % 3) {
          case 0:
            d = m::Decision::reply("550-5.7.0 Incident ID: 1\r\n550 5.7.0 100% blocked\r\n");
            break;
          case 1:
            d.changes = {{m::Change::Kind::insert_header, 0, "X-DLP", "yes"},
                         {m::Change::Kind::delete_recipient, 0, "a@b", ""}};
            d.quarantine = "held";
            break;
          default:
            break;
        }
        check_output(session.finish(d));
      }
      if (s.close) return 0;
    }
  }
  return 0;
}
