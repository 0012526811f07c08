// Shared by the spool tests: a fresh data_dir per test and a ready-made
// envelope.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "queue/spool.hpp"

namespace cordon::queue::testing {

inline Envelope sample_envelope(TimePoint now = std::chrono::system_clock::now()) {
  Envelope e;
  e.sender = "alice@example.com";
  e.recipients.push_back(
      {"bob@example.net", "rfc822;bob@example.net", "FAILURE,DELAY", RecipientState::pending, ""});
  e.recipients.push_back({"carol@example.org", "", "", RecipientState::pending, ""});
  e.params.size = 1234;
  e.params.body = "8BITMIME";
  e.params.ret = "HDRS";
  e.params.envid = "QQ314159";
  e.client = {"192.0.2.7", "mx.example.com", "mx.example.com"};
  e.arrival = now;
  e.next_attempt = now;
  e.add_trace(now, "queued", "from 192.0.2.7");
  return e;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cordon-queue-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::size_t count_entries(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

// Commits one message with `content` and returns its id.
inline std::string commit_message(const Spool& spool, std::string_view content,
                                  Envelope envelope = sample_envelope()) {
  auto writer = spool.begin(std::move(envelope));
  EXPECT_TRUE(writer.has_value());
  EXPECT_TRUE(writer->write(content).has_value());
  auto id = writer->commit();
  EXPECT_TRUE(id.has_value());
  return id.has_value() ? *id : std::string();
}

}  // namespace cordon::queue::testing
