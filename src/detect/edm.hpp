// Exact Data Match (EDM): recognises the cells of a customer table (names,
// SSNs, card numbers, e-mail addresses...) in message text without keeping
// the table. Each normalised cell is stored only as a SipHash-2-4 under a
// secret 128-bit key kept in its own file; the index holds truncated hashes
// and row ids, never a value. Whoever holds BOTH the key and the index can
// still test guesses, so low-entropy values (a 9-digit SSN) can be
// enumerated by them: keep the key where the index is not.
//
// Index layout (little-endian, memory-mapped read-only): a header (magic,
// key check, geometry, the column names and types), a directory of 2^B
// uint32 bucket offsets chosen by the top B bits of a cell's hash, then one
// packed entry per cell: the next hash bits, the row id and the column,
// sorted, so the cells of one value are contiguous and ordered by row.
//
// Thread model: an Index is immutable and shared; find_hits is pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detect/detail/index_file.hpp"
#include "util/result.hpp"
#include "util/siphash.hpp"

namespace cordon::detect::edm {

// How a column's cells and the candidate values in text are normalised
// before hashing:
// - text: lower-case ASCII letters; words are runs of letters and digits
//   (bytes of non-ASCII UTF-8 count as letters), joined by one space; a
//   cell of several words matches that word sequence in text;
// - digits: only the digits (SSNs, card and phone numbers, account
//   numbers: "123-45-6789", "123 45 6789" and "123456789" are one value);
// - email: trimmed, lower case.
enum class ColumnType { text, digits, email };
std::string_view to_string(ColumnType type);
// The type a column gets by its name when the profile does not say:
// digits for ssn, card, phone, account, number..., email for email, mail,
// text otherwise.
ColumnType infer_type(std::string_view column_name);

struct Column {
  std::string name;
  ColumnType type = ColumnType::text;
  bool operator==(const Column&) const = default;
};

// The normalised form of a cell; empty when nothing is left to match.
std::string normalise(ColumnType type, std::string_view cell);

// The longest word sequence a text cell may be (longer cells are indexed
// but never match).
inline constexpr std::size_t kMaxCellWords = 8;

enum class ErrorCode { io, bad_key, bad_index, key_mismatch, columns_mismatch, bad_csv };
struct Error {
  ErrorCode code = ErrorCode::io;
  std::string message;
};

// The secret of the keyed hashes: 32 hex digits and a newline, mode 0600.
Result<util::SipKey, Error> load_key(const std::filesystem::path& path);
// Loads the key, or creates it (0600, exclusively) when the file is absent.
Result<util::SipKey, Error> load_or_create_key(const std::filesystem::path& path,
                                               bool* created = nullptr);

struct BuildStats {
  std::size_t rows = 0;
  std::size_t cells = 0;        // indexed (non-empty after normalisation)
  std::size_t empty_cells = 0;  // skipped: nothing left after normalisation
  std::size_t index_bytes = 0;  // size of the index file
  std::size_t max_words = 0;    // most words in one text cell
};

// Reads a CSV (RFC 4180: commas, double-quoted fields with "" escapes,
// CRLF or LF; a UTF-8 BOM is skipped) whose first row names the columns,
// indexes the `columns` (matched to the header ignoring case; other CSV
// columns are ignored) and writes the index to `out` atomically (a reader
// of the old file keeps it until it reopens). Rows are numbered from 0 in
// file order, the header not counted.
Result<BuildStats, Error> build_index(const std::filesystem::path& csv,
                                      std::span<const Column> columns, const util::SipKey& key,
                                      const std::filesystem::path& out);

// The cells of one hashed value: a contiguous, row-ordered range.
struct Range {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
};

class Index {
 public:
  // Maps the file; checks its header, that it was built under `key` and
  // (unless empty) that its columns are `columns`, in order.
  static Result<std::shared_ptr<const Index>, Error> open(const std::filesystem::path& path,
                                                          const util::SipKey& key,
                                                          std::span<const Column> columns = {});
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  const std::vector<Column>& columns() const { return columns_; }
  std::size_t rows() const { return rows_; }
  std::size_t cells() const { return cells_; }
  std::size_t file_bytes() const { return file_.size(); }
  std::size_t max_words() const { return max_words_; }
  // Whether some text cell has `n` words: a sequence of another length in
  // text need not be looked up.
  bool has_word_count(std::size_t n) const { return n < 32 && (word_counts_ >> n & 1); }
  bool has_type(ColumnType type) const;
  // Whether some digits cell has `n` digits: a number of another length
  // in text need not be looked up.
  bool has_digit_length(std::size_t n) const { return n < 32 && (digit_lengths_ >> n & 1); }

  std::uint64_t hash(std::string_view normalised) const;
  Range lookup(std::uint64_t hash) const;
  // The same for many hashes at once (`out[i]` for `hashes[i]`): a lookup in
  // a large index is two cache and TLB misses, and these overlap when the
  // lines of a batch are prefetched before any of them is read.
  void lookup(std::span<const std::uint64_t> hashes, std::span<Range> out) const;
  std::uint32_t row_at(std::size_t entry) const;
  std::uint32_t column_at(std::size_t entry) const;
  // Whether `row` is among the cells of `range` (binary search); the column
  // of the first such cell in `column`.
  bool contains_row(Range range, std::uint32_t row, std::uint32_t* column) const;

 private:
  Index() = default;
  std::size_t bucket_of(std::uint64_t hash) const { return hash >> (64 - bucket_bits_); }
  // The cells of `hash` among the entries [lo, hi) of its bucket.
  Range search(std::uint64_t hash, std::uint32_t lo, std::uint32_t hi) const;

  util::SipKey key_{};
  index_file::MappedFile file_;
  index_file::Tables tables_;
  std::vector<Column> columns_;
  std::size_t rows_ = 0, cells_ = 0, max_words_ = 0;
  std::uint32_t digit_lengths_ = 0;
  std::uint32_t word_counts_ = 0;
  unsigned bucket_bits_ = 0, row_bits_ = 0, col_bits_ = 0;
};

// One cell of the index found in text: [begin, end) byte offsets.
struct Hit {
  std::uint32_t row = 0;
  std::uint32_t column = 0;
  std::size_t begin = 0;
  std::size_t end = 0;
  bool common = false;  // the value is in more than common_rows rows
};

struct ScanOptions {
  // A value in more rows than this is common: it never starts a row match
  // and counts only beside a rare field of the same row.
  std::size_t common_rows = 20;
  // How far apart (bytes) the fields of one row may be.
  std::size_t proximity = 300;
  // Look words and word sequences up everywhere. When false, only within
  // `proximity` of a digits or email candidate: enough whenever a match
  // needs more fields than the text columns can give, and far cheaper.
  bool all_words = true;
};

// Every indexed cell among the candidates of `text`: digit runs (groups of
// digits joined by one or two of " -./()", with every sub-run of groups
// tried), e-mail addresses, and words and word sequences up to the
// index's longest text cell. A common value yields hits only for rows that
// also have a rare hit in `text`.
std::vector<Hit> find_hits(const Index& index, std::string_view text, const ScanOptions& options);

struct RowMatch {
  std::uint32_t row = 0;
  std::vector<Hit> fields;  // one per column, in text order
};

// The rows with at least `min_fields` distinct columns among `column_mask`
// (bit i: column i) within `proximity` bytes of each other, at least one
// of them not common. One match per row, its closest group of fields.
std::vector<RowMatch> match_rows(std::span<const Hit> hits, std::size_t min_fields,
                                 std::uint64_t column_mask, std::size_t proximity);

}  // namespace cordon::detect::edm
