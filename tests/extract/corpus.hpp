// Test helper: generates the attachment corpus (make_corpus.py) once per
// test program into a fresh temporary directory and reads files from it.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/process.hpp"

namespace cordon::testing {

class AttachmentCorpus {
 public:
  // Generates into a new temporary directory; `bombs` adds the zip bombs.
  explicit AttachmentCorpus(bool bombs) {
    char tmpl[] = "/tmp/cordon-extract-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    dir_ = made ? made : "";
    std::string cmd =
        "python3 '" + script_path() + "' '" + dir_ + "'" + (bombs ? " --bombs" : "") + " 2>&1";
    auto r = run_command(cmd);
    ok_ = !dir_.empty() && r.exit_code == 0;
    error_ = r.output;
  }
  ~AttachmentCorpus() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  AttachmentCorpus(const AttachmentCorpus&) = delete;
  AttachmentCorpus& operator=(const AttachmentCorpus&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  bool has(const std::string& name) const { return std::filesystem::exists(path(name)); }

  std::string read(const std::string& name) const {
    std::ifstream in(path(name), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  // Beside this header; CTest's environment does not reliably carry the
  // source directory.
  static std::string script_path() {
    std::string here = __FILE__;
    return here.substr(0, here.rfind('/')) + "/make_corpus.py";
  }

  std::string dir_;
  std::string error_;
  bool ok_ = false;
};

}  // namespace cordon::testing
