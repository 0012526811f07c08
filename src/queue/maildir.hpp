// Maildir delivery (the gateway's `deliver: maildir`): every message is one
// file, written to tmp/, fsynced, and renamed into new/ so that a reader
// never sees a partial message and a crash leaves at most a stray file in
// tmp/. Return-Path and one Delivered-To per recipient go on top of the
// message, as a local delivery agent would add them.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace cordon::queue {

struct MaildirMessage {
  std::string queue_id;  // part of the file name, so a file can be traced to its queue entry
  std::string sender;    // "" for the null sender
  std::vector<std::string> recipients;
  std::vector<std::string> extra_headers;  // "Name: value", added after Delivered-To
  std::string_view content;
};

// Creates <maildir>/{tmp,new,cur} if needed and delivers; returns the path
// of the file in new/, or the reason it could not be written.
Result<std::filesystem::path, std::string> deliver_to_maildir(const std::filesystem::path& maildir,
                                                              const std::string& hostname,
                                                              const MaildirMessage& message);

}  // namespace cordon::queue
