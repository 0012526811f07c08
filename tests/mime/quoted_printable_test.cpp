// Quoted-printable decoding against the straightforward reading it was
// before spaces between words became part of a copied run: the same bytes,
// counts and truncation on random input and output caps.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "mime/transfer_decode.hpp"

namespace cordon::mime::detail {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string reference(std::string_view in, std::size_t cap, DecodeReport& report) {
  std::string out(std::min(cap, in.size()), '\0');
  char* dst = out.data();
  char* const limit = dst + out.size();
  std::size_t i = 0;
  auto put = [&](char c) {
    if (dst == limit) {
      report.truncated = true;
      return false;
    }
    *dst++ = c;
    return true;
  };
  while (i < in.size()) {
    std::size_t run = i;
    while (run < in.size() && in[run] != '=' && in[run] != ' ' && in[run] != '\t') ++run;
    std::size_t n = std::min<std::size_t>(run - i, static_cast<std::size_t>(limit - dst));
    std::copy_n(in.data() + i, n, dst);
    dst += n;
    if (n < run - i) {
      report.truncated = true;
      break;
    }
    i = run;
    if (i >= in.size()) break;
    char c = in[i];
    if (c != '=') {
      std::size_t j = i;
      while (j < in.size() && (in[j] == ' ' || in[j] == '\t')) ++j;
      if (j == in.size() || in[j] == '\n' || in[j] == '\r') {
        i = j;
        continue;
      }
      if (!put(c)) break;
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    while (j < in.size() && (in[j] == ' ' || in[j] == '\t')) ++j;
    if (j == in.size()) break;
    if (in[j] == '\r' || in[j] == '\n') {
      if (in[j] == '\r' && j + 1 < in.size() && in[j + 1] == '\n') ++j;
      i = j + 1;
      continue;
    }
    if (i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      if (!put(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])))) break;
      i += 3;
      continue;
    }
    ++report.invalid_chars;
    if (!put('=')) break;
    ++i;
  }
  out.resize(static_cast<std::size_t>(dst - out.data()));
  return out;
}

TEST(QuotedPrintable, SameAsTheReferenceOnRandomInput) {
  const std::string pieces[] = {"word",   " ",  "\t",    "=",  "\r\n", "\n", "=3D",
                                "=C3=A9", "=Z", "=\r\n", "  ", "x",    "=4"};
  std::mt19937 rng(777);
  for (int i = 0; i < 30000; ++i) {
    std::string in;
    const int n = static_cast<int>(rng() % 30);
    for (int k = 0; k < n; ++k) in += pieces[rng() % std::size(pieces)];
    const std::size_t cap = rng() % 4 ? std::size_t{1} << 20 : rng() % (in.size() + 1);
    DecodeReport want_report, got_report;
    const std::string want = reference(in, cap, want_report);
    std::string got;
    decode_transfer(in, TransferEncoding::quoted_printable, cap, got, got_report);
    ASSERT_EQ(got, want) << "input: " << in << " cap " << cap;
    ASSERT_EQ(got_report.invalid_chars, want_report.invalid_chars) << in;
    ASSERT_EQ(got_report.truncated, want_report.truncated) << in << " cap " << cap;
  }
}

}  // namespace
}  // namespace cordon::mime::detail
