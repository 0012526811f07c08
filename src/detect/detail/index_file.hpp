// Internal to EDM and IDM: the file plumbing their keyed indexes share, so
// the two formats cannot drift apart where they are meant to be alike. The
// key file (32 hex digits, 0600), the start of an index (an 8-byte magic
// number and a check value hashed under the key, so an index never opens
// under another key), the bucket directory and packed entries that follow
// the kind's own header, the atomic write, and the read-only mapping.
//
// Layout of the tables (little-endian): padding to a multiple of 8, 2^B + 1
// uint32 bucket offsets, then one entry of `entry_bytes` bytes per key, then
// 8 bytes of padding so that an entry can always be read as 8 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "util/result.hpp"
#include "util/siphash.hpp"

namespace cordon::detect::index_file {

// What an index is of: how its messages name it and how its file starts.
struct IndexKind {
  std::string_view name;         // "EDM": "the EDM key", "not a usable EDM index"
  std::string_view key_setting;  // "edm.key_file", named when the key is not the index's
  std::string_view magic;        // the first 8 bytes of the file
  std::string_view key_check;    // hashed under the key into the header
};

inline constexpr std::size_t kMagicBytes = 8;

enum class FileErrorCode { io, bad_key, bad_index, key_mismatch };
struct FileError {
  FileErrorCode code = FileErrorCode::io;
  std::string message;
};

// A FileError as the Error of EDM or IDM, whose ErrorCode has the same
// names.
template <class Error>
Error to_error(FileError e) {
  using Code = decltype(Error{}.code);
  Code code = Code::io;
  switch (e.code) {
    case FileErrorCode::io:
      code = Code::io;
      break;
    case FileErrorCode::bad_key:
      code = Code::bad_key;
      break;
    case FileErrorCode::bad_index:
      code = Code::bad_index;
      break;
    case FileErrorCode::key_mismatch:
      code = Code::key_mismatch;
      break;
  }
  return Error{code, std::move(e.message)};
}

// `r` with its error as the Error of EDM or IDM.
template <class Error, class T>
Result<T, Error> to_result(Result<T, FileError> r) {
  if (!r) return fail(to_error<Error>(r.error()));
  return std::move(r).value();
}

// The secret of the keyed hashes: 32 hex digits and a newline, mode 0600.
Result<util::SipKey, FileError> load_key(const IndexKind& kind, const std::filesystem::path& path);
// Loads the key, or creates it (0600, exclusively) when the file is absent.
Result<util::SipKey, FileError> load_or_create_key(const IndexKind& kind,
                                                   const std::filesystem::path& path,
                                                   bool* created);

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

template <class T>
bool get(const unsigned char* base, std::size_t size, std::size_t& at, T& v) {
  if (at + sizeof(T) > size) return false;
  std::memcpy(&v, base + at, sizeof(T));
  at += sizeof(T);
  return true;
}

// Bits to write 0..n-1, at least 1.
unsigned bits_for(std::size_t n);

// The start of an index file built under `key`: the magic number and the
// key check value; the kind's header follows.
std::string start_file(const IndexKind& kind, const util::SipKey& key);

// Appends the tables of `keys` (sorted) to `file`: key k goes to bucket
// k >> low_bits, its entry is its low `low_bits` bits in `entry_bytes`.
void append_tables(std::string& file, std::span<const std::uint64_t> keys, unsigned bucket_bits,
                   unsigned low_bits, unsigned entry_bytes);

// Writes `file` to `out` atomically (a reader of the old file keeps it
// until it reopens), creating its directory.
Status<FileError> write_file(const std::filesystem::path& out, std::string_view file);

// An index file mapped read-only; unmapped when destroyed.
class MappedFile {
 public:
  MappedFile() = default;
  // Takes over a mapping of `size` bytes at `data`.
  MappedFile(const unsigned char* data, std::size_t size) : data_(data), size_(size) {}
  MappedFile(MappedFile&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const unsigned char* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

// How the index is read once mapped (madvise).
enum class Access { normal, random };

// Maps `path` and checks its magic number: the kind's header starts at
// kMagicBytes with the key check value.
Result<MappedFile, FileError> map_index(const IndexKind& kind, const std::filesystem::path& path,
                                        Access access);

// A bad_index error: "PATH is not a usable EDM index: WHY".
FileError not_usable(const IndexKind& kind, const std::filesystem::path& path,
                     std::string_view why);

// Whether the key check value `stored` of the index at `path` is that of
// `key`; a key_mismatch error naming the kind's key setting when not.
Status<FileError> check_key(const IndexKind& kind, const std::filesystem::path& path,
                            std::uint64_t stored, const util::SipKey& key);

// The tables of a mapped index, read in place.
class Tables {
 public:
  // Finds the tables after the kind's header, which ends at `at`; false
  // unless they end the file exactly.
  bool locate(const MappedFile& file, std::size_t at, unsigned bucket_bits, std::size_t entries,
              unsigned entry_bytes);

  // Entries [first, past) of a bucket.
  std::pair<std::uint32_t, std::uint32_t> bucket(std::size_t b) const {
    std::uint32_t lo = 0, hi = 0;
    std::memcpy(&lo, directory_ + b * 4, 4);
    std::memcpy(&hi, directory_ + b * 4 + 4, 4);
    return {lo, hi};
  }
  // Ask for the lines that bucket() and entry() will read, so that the
  // cache misses of many lookups overlap.
  void prefetch_bucket(std::size_t b) const { __builtin_prefetch(directory_ + b * 4); }
  void prefetch_entry(std::size_t i) const { __builtin_prefetch(entries_ + i * entry_bytes_); }
  std::uint64_t entry(std::size_t i) const {
    std::uint64_t v = 0;
    std::memcpy(&v, entries_ + i * entry_bytes_, 8);
    if (entry_bytes_ < 8) v &= (std::uint64_t{1} << (8 * entry_bytes_)) - 1;
    return v;
  }

 private:
  const unsigned char* directory_ = nullptr;
  const unsigned char* entries_ = nullptr;
  unsigned entry_bytes_ = 0;
};

}  // namespace cordon::detect::index_file
