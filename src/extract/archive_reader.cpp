// libarchive reading from memory (see archive_reader.hpp). The ratio limit
// compares what one archive has produced with the archive's own size, so a
// highly compressible member is stopped after at most ratio x size bytes,
// long before it could fill memory.
#include "extract/detail/archive_reader.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <array>
#include <memory>

namespace cordon::extract::detail {
namespace {

// Below this many expanded bytes an archive is never a bomb: small text
// files legitimately compress better than any sensible ratio.
constexpr std::size_t kRatioFloor = 1u << 20;
constexpr std::size_t kChunk = 64u << 10;

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

std::string sanitize_path(std::string_view raw) {
  std::string out;
  std::size_t i = 0;
  while (i <= raw.size()) {
    std::size_t j = raw.find_first_of("/\\", i);
    if (j == std::string_view::npos) j = raw.size();
    std::string_view step = raw.substr(i, j - i);
    if (!step.empty() && step != "." && step != "..") {
      if (!out.empty()) out += '/';
      for (char c : step) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '_' : c;
    }
    i = j + 1;
  }
  return out;
}

bool mentions_encryption(const char* message) {
  if (!message) return false;
  std::string m(message);
  std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::tolower(c); });
  return m.find("encrypt") != std::string::npos || m.find("passphrase") != std::string::npos ||
         m.find("password") != std::string::npos;
}

}  // namespace

ArchiveOutcome read_archive(std::string_view bytes, const std::string& where,
                            const std::string& stream_name, Budget& budget,
                            const std::function<Want(const std::string& path)>& want,
                            const std::function<bool(Member&&)>& visit, bool count_files) {
  ArchiveOutcome outcome;
  ArchivePtr a(archive_read_new());
  if (!a) {
    outcome.error = "cannot allocate an archive reader";
    return outcome;
  }
  archive_read_support_filter_all(a.get());
  archive_read_support_format_all(a.get());
  // A lone compressed stream (report.txt.gz) is a "raw" archive of one
  // member; raw bids lowest, so real archive formats win.
  archive_read_support_format_raw(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    outcome.encrypted = mentions_encryption(archive_error_string(a.get()));
    const char* e = archive_error_string(a.get());
    outcome.error = e ? e : "unreadable archive";
    return outcome;
  }
  const Limits& limits = budget.limits();
  std::size_t produced = 0;  // by this archive, for the ratio limit
  std::size_t ratio_cap = std::max(kRatioFloor, bytes.size() * limits.max_ratio);
  std::array<char, kChunk> chunk{};
  for (;;) {
    if (budget.exhausted() || budget.out_of_time(where)) break;
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      const char* e = archive_error_string(a.get());
      if (mentions_encryption(e) || archive_read_has_encrypted_entries(a.get()) > 0)
        outcome.encrypted = true;
      outcome.error = e ? e : "damaged archive";
      break;
    }
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    ++outcome.members;
    Member m;
    bool raw = archive_format(a.get()) == ARCHIVE_FORMAT_RAW;
    const char* utf8 = archive_entry_pathname_utf8(entry);
    const char* name = utf8 ? utf8 : archive_entry_pathname(entry);
    m.path = raw ? stream_name : sanitize_path(name ? name : "");
    if (m.path.empty()) m.path = "unnamed";
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0)
      m.size = static_cast<std::size_t>(archive_entry_size(entry));
    if (archive_entry_is_encrypted(entry)) {
      m.encrypted = true;
      outcome.encrypted = true;
      if (!visit(std::move(m))) break;
      continue;
    }
    Want w = want(m.path);
    if (w == Want::stop) break;
    if (w == Want::skip) continue;
    std::string member_where = where + "/" + m.path;
    if (count_files && !budget.take_file(member_where)) break;
    std::size_t read_total = 0;
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), chunk.data(), chunk.size());
      if (n == 0) break;
      if (n < 0) {
        const char* e = archive_error_string(a.get());
        if (mentions_encryption(e)) {
          m.encrypted = true;
          outcome.encrypted = true;
        } else {
          outcome.error = e ? e : "damaged member";
        }
        break;
      }
      auto got = static_cast<std::size_t>(n);
      if (read_total + got > limits.max_file_bytes) {
        m.truncated = true;
        budget.hit(
            LimitKind::file_bytes, member_where,
            "member expands to more than " + std::to_string(limits.max_file_bytes) + " bytes");
        got = limits.max_file_bytes - read_total;
      }
      if (produced + got > ratio_cap) {
        m.truncated = true;
        budget.hit(LimitKind::ratio, where,
                   "compression ratio above " + std::to_string(limits.max_ratio) + ":1");
        got = std::min(got, ratio_cap - produced);
      }
      if (!budget.charge(got, member_where)) {
        m.truncated = true;
        break;
      }
      m.data.append(chunk.data(), got);
      read_total += got;
      produced += got;
      if (m.truncated || budget.out_of_time(member_where)) break;
    }
    m.size = std::max(m.size, read_total);
    // Past a limit the rest of this archive is not read: skipping the rest
    // of a streamed member means decompressing it, which is what a bomb
    // wants.
    bool stop_here = m.truncated;
    if (!visit(std::move(m))) break;
    if (stop_here || !outcome.error.empty()) break;
  }
  if (archive_read_has_encrypted_entries(a.get()) > 0) outcome.encrypted = true;
  return outcome;
}

}  // namespace cordon::extract::detail
