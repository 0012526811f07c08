// EDM: normalisation of cells, the key file, building the index from a CSV
// and opening it (see edm.hpp for the layout and what it protects).
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <thread>

#include "detect/detail/edm_text.hpp"
#include "detect/detail/index_file.hpp"
#include "detect/edm.hpp"
#include "util/ascii.hpp"
#include "util/fs.hpp"

namespace cordon::detect::edm {
namespace {

using namespace detail;
using index_file::bits_for;
using index_file::get;
using index_file::put;

constexpr index_file::IndexKind kKind{"EDM", "edm.key_file", "CDNEDM01", "cordon edm key check v1"};

Error err(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

Error err(index_file::FileError e) {
  return index_file::to_error<Error>(std::move(e));
}

// RFC 4180 reader over a whole file: one record at a time.
class CsvReader {
 public:
  explicit CsvReader(std::string_view data) : d_(data) {
    if (d_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
  }
  // False at the end of the data. An error sets `bad`.
  bool next(std::vector<std::string_view>& fields, std::string& scratch, bool& bad) {
    fields.clear();
    scratch.clear();
    if (pos_ >= d_.size()) return false;
    // Quoted fields with "" are unescaped into scratch; remember offsets.
    std::vector<std::pair<std::size_t, std::size_t>> in_scratch;
    std::vector<int> from_scratch;
    for (;;) {
      if (pos_ < d_.size() && d_[pos_] == '"') {
        ++pos_;
        std::size_t start = scratch.size();
        for (;;) {
          std::size_t q = d_.find('"', pos_);
          if (q == std::string_view::npos) {
            bad = true;
            return false;
          }
          scratch.append(d_.substr(pos_, q - pos_));
          pos_ = q + 1;
          if (pos_ < d_.size() && d_[pos_] == '"') {
            scratch.push_back('"');
            ++pos_;
            continue;
          }
          break;
        }
        in_scratch.emplace_back(start, scratch.size() - start);
        from_scratch.push_back(static_cast<int>(in_scratch.size()));
        fields.emplace_back();
      } else {
        std::size_t e = pos_;
        while (e < d_.size() && d_[e] != ',' && d_[e] != '\n' && d_[e] != '\r') ++e;
        fields.push_back(d_.substr(pos_, e - pos_));
        from_scratch.push_back(0);
        pos_ = e;
      }
      if (pos_ >= d_.size()) break;
      char c = d_[pos_];
      if (c == ',') {
        ++pos_;
        continue;
      }
      if (c == '\r') ++pos_;
      if (pos_ < d_.size() && d_[pos_] == '\n') ++pos_;
      if (c != '\r' && c != '\n') {  // text after a closing quote
        bad = true;
        return false;
      }
      break;
    }
    for (std::size_t i = 0; i < fields.size(); ++i)
      if (from_scratch[i] > 0) {
        auto [s, n] = in_scratch[static_cast<std::size_t>(from_scratch[i] - 1)];
        fields[i] = std::string_view(scratch).substr(s, n);
      }
    return true;
  }
  std::size_t line_hint() const { return pos_; }

 private:
  std::string_view d_;
  std::size_t pos_ = 0;
};

std::size_t count_words(std::string_view normalised) {
  return normalised.empty()
             ? 0
             : 1 + static_cast<std::size_t>(std::count(normalised.begin(), normalised.end(), ' '));
}

void sort_parallel(std::vector<std::uint64_t>& keys) {
  if (keys.size() < (1u << 20)) {
    std::sort(keys.begin(), keys.end());
    return;
  }
  auto mid = keys.begin() + static_cast<long>(keys.size() / 2);
  std::thread other([&] { std::sort(keys.begin(), mid); });
  std::sort(mid, keys.end());
  other.join();
  std::inplace_merge(keys.begin(), mid, keys.end());
}

}  // namespace

std::string_view to_string(ColumnType type) {
  switch (type) {
    case ColumnType::text:
      return "text";
    case ColumnType::digits:
      return "digits";
    case ColumnType::email:
      return "email";
  }
  return "?";
}

ColumnType infer_type(std::string_view name) {
  std::string n;
  append_lower(n, name);
  if (n.find("mail") != std::string::npos) return ColumnType::email;
  for (std::string_view d : {"ssn", "card", "pan", "phone", "mobile", "tel", "account", "number",
                             "iban", "routing", "nino", "passport", "_id", "zip", "postcode"})
    if (n.find(d) != std::string::npos) return ColumnType::digits;
  return ColumnType::text;
}

std::string normalise(ColumnType type, std::string_view cell) {
  std::string out;
  switch (type) {
    case ColumnType::digits:
      for (unsigned char c : cell)
        if (is_digit(c)) out.push_back(static_cast<char>(c));
      if (out.size() < kMinDigits || out.size() > kMaxDigits) out.clear();
      return out;
    case ColumnType::email: {
      std::size_t b = cell.find_first_not_of(" \t\r\n<");
      std::size_t e = cell.find_last_not_of(" \t\r\n>");
      if (b == std::string_view::npos) return out;
      append_lower(out, cell.substr(b, e - b + 1));
      return out;
    }
    case ColumnType::text:
      for (std::size_t i = 0; i < cell.size();) {
        if (!is_word(static_cast<unsigned char>(cell[i]))) {
          ++i;
          continue;
        }
        std::size_t j = i;
        while (j < cell.size() && is_word(static_cast<unsigned char>(cell[j]))) ++j;
        if (!out.empty()) out.push_back(' ');
        append_lower(out, cell.substr(i, j - i));
        i = j;
      }
      return out;
  }
  return out;
}

Result<util::SipKey, Error> load_key(const std::filesystem::path& path) {
  return index_file::to_result<Error>(index_file::load_key(kKind, path));
}

Result<util::SipKey, Error> load_or_create_key(const std::filesystem::path& path, bool* created) {
  return index_file::to_result<Error>(index_file::load_or_create_key(kKind, path, created));
}

Result<BuildStats, Error> build_index(const std::filesystem::path& csv,
                                      std::span<const Column> columns, const util::SipKey& key,
                                      const std::filesystem::path& out) {
  if (columns.empty() || columns.size() > 64)
    return fail(err(ErrorCode::bad_csv, "a profile needs 1 to 64 columns"));
  auto data = util::read_file(csv);
  if (!data) return fail(err(ErrorCode::io, "cannot read " + data.error().message));
  CsvReader reader(*data);
  std::vector<std::string_view> fields;
  std::string scratch;
  bool bad = false;
  if (!reader.next(fields, scratch, bad))
    return fail(err(ErrorCode::bad_csv, csv.string() + ": no header row"));
  // where[c]: the CSV field of profile column c.
  std::vector<std::size_t> where(columns.size());
  for (std::size_t c = 0; c < columns.size(); ++c) {
    auto it = std::find_if(fields.begin(), fields.end(), [&](std::string_view f) {
      return util::iequals(util::trim(f), columns[c].name);
    });
    if (it == fields.end())
      return fail(err(ErrorCode::bad_csv,
                      csv.string() + ": the header row has no column '" + columns[c].name + "'"));
    where[c] = static_cast<std::size_t>(it - fields.begin());
  }

  BuildStats stats;
  std::uint32_t digit_lengths = 0;  // bit n: some digits cell has n digits
  std::uint32_t word_counts = 0;    // bit n: some text cell has n words
  std::vector<std::uint64_t> hashes;
  std::vector<std::uint32_t> cell_ids;  // row * columns + column
  hashes.reserve(data->size() / 8);
  cell_ids.reserve(data->size() / 8);
  std::string norm;
  while (reader.next(fields, scratch, bad)) {
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (stats.rows >= (std::size_t{1} << 31) / columns.size())
      return fail(err(ErrorCode::bad_csv, csv.string() + ": too many rows"));
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (where[c] >= fields.size()) {
        ++stats.empty_cells;
        continue;
      }
      norm = normalise(columns[c].type, fields[where[c]]);
      if (norm.empty()) {
        ++stats.empty_cells;
        continue;
      }
      if (columns[c].type == ColumnType::text) {
        const std::size_t words = count_words(norm);
        stats.max_words = std::max(stats.max_words, words);
        if (words <= kMaxCellWords) word_counts |= std::uint32_t{1} << words;
      }
      if (columns[c].type == ColumnType::digits) digit_lengths |= std::uint32_t{1} << norm.size();
      hashes.push_back(util::siphash24(key, norm));
      cell_ids.push_back(static_cast<std::uint32_t>(stats.rows * columns.size() + c));
    }
    ++stats.rows;
  }
  if (bad)
    return fail(err(ErrorCode::bad_csv, csv.string() + ": malformed CSV (an unclosed quote or " +
                                            "text after a closing quote) near byte " +
                                            std::to_string(reader.line_hint())));
  data->clear();  // the plaintext goes as soon as it can
  data->shrink_to_fit();
  stats.cells = hashes.size();
  stats.max_words = std::min(stats.max_words, kMaxCellWords);

  const unsigned row_bits = bits_for(stats.rows);
  const unsigned col_bits = bits_for(columns.size());
  const unsigned low = row_bits + col_bits;
  const unsigned bucket_bits = std::clamp(
      static_cast<unsigned>(std::bit_width(std::max<std::size_t>(stats.cells / 8, 1))), 4u, 30u);
  if (64 < bucket_bits + low + 8)
    return fail(err(ErrorCode::bad_csv, csv.string() + ": too many rows for one index"));
  const unsigned entry_bits = 64 - bucket_bits;
  const unsigned entry_bytes = (entry_bits + 7) / 8;

  for (std::size_t i = 0; i < hashes.size(); ++i) {
    std::uint64_t row = cell_ids[i] / columns.size(), col = cell_ids[i] % columns.size();
    hashes[i] = ((hashes[i] >> low) << low) | (row << col_bits) | col;
  }
  std::vector<std::uint32_t>().swap(cell_ids);
  sort_parallel(hashes);

  std::string file = index_file::start_file(kKind, key);
  put<std::uint64_t>(file, stats.rows);
  put<std::uint64_t>(file, stats.cells);
  put<std::uint32_t>(file, bucket_bits);
  put<std::uint32_t>(file, row_bits);
  put<std::uint32_t>(file, col_bits);
  put<std::uint32_t>(file, entry_bytes);
  // The most words of a text cell, and above it which counts occur (bit
  // 8 + n: some cell has n words); an index without them says 0, and then
  // every count up to the most is looked up.
  put<std::uint32_t>(file, static_cast<std::uint32_t>(stats.max_words) | word_counts << 8);
  put<std::uint32_t>(file, digit_lengths);
  put<std::uint32_t>(file, static_cast<std::uint32_t>(columns.size()));
  for (const auto& c : columns) {
    put<std::uint8_t>(file, static_cast<std::uint8_t>(c.type));
    put<std::uint16_t>(file,
                       static_cast<std::uint16_t>(std::min<std::size_t>(c.name.size(), 0xffff)));
    file.append(c.name.substr(0, 0xffff));
  }
  index_file::append_tables(file, hashes, bucket_bits, entry_bits, entry_bytes);
  std::vector<std::uint64_t>().swap(hashes);
  if (auto written = index_file::write_file(out, file); !written) return fail(err(written.error()));
  stats.index_bytes = file.size();
  return stats;
}

Result<std::shared_ptr<const Index>, Error> Index::open(const std::filesystem::path& path,
                                                        const util::SipKey& key,
                                                        std::span<const Column> columns) {
  auto mapped = index_file::map_index(kKind, path, index_file::Access::random);
  if (!mapped) return fail(err(mapped.error()));
  std::shared_ptr<Index> index(new Index());
  index->file_ = std::move(*mapped);
  index->key_ = key;
  auto bad = [&](std::string_view why) {
    return fail(err(index_file::not_usable(kKind, path, why)));
  };
  const unsigned char* p = index->file_.data();
  const std::size_t n = index->file_.size();
  std::size_t at = index_file::kMagicBytes;
  std::uint64_t check = 0, rows = 0, cells = 0;
  std::uint32_t bb = 0, rb = 0, cb = 0, eb = 0, mw = 0, dl = 0, nc = 0;
  if (!get(p, n, at, check) || !get(p, n, at, rows) || !get(p, n, at, cells) ||
      !get(p, n, at, bb) || !get(p, n, at, rb) || !get(p, n, at, cb) || !get(p, n, at, eb) ||
      !get(p, n, at, mw) || !get(p, n, at, dl) || !get(p, n, at, nc))
    return bad("truncated header");
  if (auto ok = index_file::check_key(kKind, path, check, key); !ok) return fail(err(ok.error()));
  if (bb < 4 || bb > 30 || rb == 0 || cb == 0 || bb + rb + cb + 8 > 64 || eb != (64 - bb + 7) / 8 ||
      nc == 0 || nc > 64 || (mw & 0xff) > kMaxCellWords || (mw >> 8) >> (kMaxCellWords + 1) != 0)
    return bad("inconsistent header");
  for (std::uint32_t c = 0; c < nc; ++c) {
    std::uint8_t type = 0;
    std::uint16_t len = 0;
    if (!get(p, n, at, type) || !get(p, n, at, len) || at + len > n || type > 2)
      return bad("truncated column list");
    index->columns_.push_back(Column{std::string(reinterpret_cast<const char*>(p + at), len),
                                     static_cast<ColumnType>(type)});
    at += len;
  }
  if (!index->tables_.locate(index->file_, at, bb, cells, eb)) return bad("wrong size");
  index->rows_ = rows;
  index->cells_ = cells;
  index->max_words_ = mw & 0xff;
  index->word_counts_ = (mw >> 8) != 0 ? mw >> 8 : (std::uint32_t{2} << (mw & 0xff)) - 2;
  index->digit_lengths_ = dl;
  index->bucket_bits_ = bb;
  index->row_bits_ = rb;
  index->col_bits_ = cb;
  if (!columns.empty() &&
      !std::equal(columns.begin(), columns.end(), index->columns_.begin(), index->columns_.end())) {
    std::string have, want;
    for (const auto& c : index->columns_)
      have += (have.empty() ? "" : ", ") + c.name + " (" + std::string(to_string(c.type)) + ")";
    for (const auto& c : columns)
      want += (want.empty() ? "" : ", ") + c.name + " (" + std::string(to_string(c.type)) + ")";
    return fail(err(ErrorCode::columns_mismatch, path.string() + " indexes the columns " + have +
                                                     ", the profile names " + want +
                                                     ": run cordon edm index again"));
  }
  return std::shared_ptr<const Index>(std::move(index));
}

bool Index::has_type(ColumnType type) const {
  return std::any_of(columns_.begin(), columns_.end(),
                     [&](const Column& c) { return c.type == type; });
}

std::uint64_t Index::hash(std::string_view normalised) const {
  return util::siphash24(key_, normalised);
}

Range Index::search(std::uint64_t hash, std::uint32_t lo, std::uint32_t hi) const {
  const unsigned low = row_bits_ + col_bits_;
  const std::uint64_t rem = ((hash << bucket_bits_) >> bucket_bits_) >> low;
  const std::uint64_t first = rem << low, past = (rem + 1) << low;
  std::size_t a = lo, b = hi;
  while (a < b) {  // lower bound of first
    std::size_t m = a + (b - a) / 2;
    if (tables_.entry(m) < first)
      a = m + 1;
    else
      b = m;
  }
  std::size_t c = a, d = hi;
  while (c < d) {  // lower bound of past
    std::size_t m = c + (d - c) / 2;
    if (tables_.entry(m) < past)
      c = m + 1;
    else
      d = m;
  }
  return Range{a, c};
}

Range Index::lookup(std::uint64_t hash) const {
  const auto [lo, hi] = tables_.bucket(bucket_of(hash));
  return search(hash, lo, hi);
}

void Index::lookup(std::span<const std::uint64_t> hashes, std::span<Range> out) const {
  // In groups: first the directory lines of the whole group are asked for,
  // then, as each arrives, the first line of its bucket's entries, then the
  // searches run on lines that are (mostly) in cache by then.
  constexpr std::size_t kGroup = 16;
  std::array<std::pair<std::uint32_t, std::uint32_t>, kGroup> bounds;
  for (std::size_t g = 0; g < hashes.size(); g += kGroup) {
    const std::size_t n = std::min(kGroup, hashes.size() - g);
    for (std::size_t i = 0; i < n; ++i) tables_.prefetch_bucket(bucket_of(hashes[g + i]));
    for (std::size_t i = 0; i < n; ++i) {
      bounds[i] = tables_.bucket(bucket_of(hashes[g + i]));
      tables_.prefetch_entry(bounds[i].first);
    }
    for (std::size_t i = 0; i < n; ++i)
      out[g + i] = search(hashes[g + i], bounds[i].first, bounds[i].second);
  }
}

std::uint32_t Index::row_at(std::size_t i) const {
  return static_cast<std::uint32_t>((tables_.entry(i) >> col_bits_) &
                                    ((std::uint64_t{1} << row_bits_) - 1));
}

std::uint32_t Index::column_at(std::size_t i) const {
  return static_cast<std::uint32_t>(tables_.entry(i) & ((std::uint64_t{1} << col_bits_) - 1));
}

bool Index::contains_row(Range range, std::uint32_t row, std::uint32_t* column) const {
  std::size_t a = range.begin, b = range.end;
  while (a < b) {
    std::size_t m = a + (b - a) / 2;
    if (row_at(m) < row)
      a = m + 1;
    else
      b = m;
  }
  if (a == range.end || row_at(a) != row) return false;
  if (column) *column = column_at(a);
  return true;
}

}  // namespace cordon::detect::edm
