// EDM: normalisation of cells, the key file, building the index from a CSV
// and opening it (see edm.hpp for the layout and what it protects).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <thread>

#include "detect/detail/edm_text.hpp"
#include "detect/edm.hpp"
#include "util/ascii.hpp"
#include "util/fs.hpp"
#include "util/random.hpp"

namespace cordon::detect::edm {
namespace {

using namespace detail;

constexpr char kMagic[8] = {'C', 'D', 'N', 'E', 'D', 'M', '0', '1'};
constexpr std::string_view kKeyCheck = "cordon edm key check v1";

Error err(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

std::string errno_text(std::string_view what, const std::filesystem::path& path) {
  return std::string(what) + " " + path.string() + ": " + std::strerror(errno);
}

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

unsigned bits_for(std::size_t n) {  // bits to write 0..n-1, at least 1
  return std::max(1u, static_cast<unsigned>(std::bit_width(n > 0 ? n - 1 : 0)));
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
  auto text = util::read_file(path);
  if (!text) return fail(err(ErrorCode::io, "cannot read the EDM key " + text.error().message));
  std::string_view t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' '))
    t.remove_suffix(1);
  util::SipKey key{};
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (t.size() != 32)
    return fail(
        err(ErrorCode::bad_key, "the EDM key " + path.string() + " is not 32 hexadecimal digits"));
  for (std::size_t i = 0; i < 16; ++i) {
    int hi = nibble(t[2 * i]), lo = nibble(t[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return fail(err(ErrorCode::bad_key,
                      "the EDM key " + path.string() + " is not 32 hexadecimal digits"));
    key[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return key;
}

Result<util::SipKey, Error> load_or_create_key(const std::filesystem::path& path, bool* created) {
  if (created) *created = false;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    auto made = util::create_file_durably(path, util::random_hex(16) + "\n", 0600);
    if (!made && made.error().err != EEXIST)
      return fail(err(ErrorCode::io, "cannot create the EDM key " + made.error().message));
    if (made && created) *created = true;
  }
  return load_key(path);
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

  std::string file;
  file.append(kMagic, sizeof kMagic);
  put<std::uint64_t>(file, util::siphash24(key, kKeyCheck));
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
  while (file.size() % 8) file.push_back('\0');
  const std::size_t buckets = std::size_t{1} << bucket_bits;
  const std::size_t dir_at = file.size();
  file.resize(dir_at + (buckets + 1) * 4);
  const std::size_t entries_at = file.size();
  file.resize(entries_at + hashes.size() * entry_bytes + 8);
  std::uint32_t offset = 0;
  std::size_t b = 0;
  auto put_dir = [&](std::size_t bucket, std::uint32_t v) {
    std::memcpy(file.data() + dir_at + bucket * 4, &v, 4);
  };
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    std::size_t bucket = hashes[i] >> entry_bits;
    while (b <= bucket) put_dir(b++, offset);
    std::uint64_t e =
        entry_bits == 64 ? hashes[i] : hashes[i] & ((std::uint64_t{1} << entry_bits) - 1);
    std::memcpy(file.data() + entries_at + i * entry_bytes, &e, entry_bytes);
    ++offset;
  }
  while (b <= buckets) put_dir(b++, offset);
  std::vector<std::uint64_t>().swap(hashes);

  std::filesystem::path dir = out.has_parent_path() ? out.parent_path() : ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto written = util::atomic_replace(dir, out.filename().string(), file, 0600);
  if (!written)
    return fail(err(ErrorCode::io, "cannot write the index " + written.error().message));
  stats.index_bytes = file.size();
  return stats;
}

Index::~Index() {
  if (map_) munmap(const_cast<unsigned char*>(map_), size_);
}

Result<std::shared_ptr<const Index>, Error> Index::open(const std::filesystem::path& path,
                                                        const util::SipKey& key,
                                                        std::span<const Column> columns) {
  util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return fail(err(ErrorCode::io, errno_text("cannot open the EDM index", path)));
  struct stat st {};
  if (fstat(fd.get(), &st) != 0)
    return fail(err(ErrorCode::io, errno_text("cannot stat the EDM index", path)));
  std::shared_ptr<Index> index(new Index());
  index->size_ = static_cast<std::size_t>(st.st_size);
  auto bad = [&](std::string why) {
    return fail(err(ErrorCode::bad_index, path.string() + " is not a usable EDM index: " + why));
  };
  if (index->size_ < 64) return bad("too short");
  void* m = mmap(nullptr, index->size_, PROT_READ, MAP_SHARED, fd.get(), 0);
  if (m == MAP_FAILED)
    return fail(err(ErrorCode::io, errno_text("cannot map the EDM index", path)));
  index->map_ = static_cast<const unsigned char*>(m);
  madvise(m, index->size_, MADV_RANDOM);
  index->key_ = key;
  const unsigned char* p = index->map_;
  const std::size_t n = index->size_;
  if (std::memcmp(p, kMagic, sizeof kMagic) != 0) return bad("wrong magic number");
  std::size_t at = sizeof kMagic;
  std::uint64_t check = 0, rows = 0, cells = 0;
  std::uint32_t bb = 0, rb = 0, cb = 0, eb = 0, mw = 0, dl = 0, nc = 0;
  if (!get(p, n, at, check) || !get(p, n, at, rows) || !get(p, n, at, cells) ||
      !get(p, n, at, bb) || !get(p, n, at, rb) || !get(p, n, at, cb) || !get(p, n, at, eb) ||
      !get(p, n, at, mw) || !get(p, n, at, dl) || !get(p, n, at, nc))
    return bad("truncated header");
  if (check != util::siphash24(key, kKeyCheck))
    return fail(err(ErrorCode::key_mismatch,
                    path.string() + " was built with another EDM key (edm.key_file)"));
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
  at = (at + 7) / 8 * 8;
  const std::size_t buckets = std::size_t{1} << bb;
  if (at + (buckets + 1) * 4 + cells * eb + 8 != n) return bad("wrong size");
  index->directory_ = p + at;
  index->entries_ = p + at + (buckets + 1) * 4;
  index->rows_ = rows;
  index->cells_ = cells;
  index->max_words_ = mw & 0xff;
  index->word_counts_ = (mw >> 8) != 0 ? mw >> 8 : (std::uint32_t{2} << (mw & 0xff)) - 2;
  index->digit_lengths_ = dl;
  index->bucket_bits_ = bb;
  index->row_bits_ = rb;
  index->col_bits_ = cb;
  index->entry_bytes_ = eb;
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

std::uint64_t Index::entry(std::size_t i) const {
  std::uint64_t v;
  std::memcpy(&v, entries_ + i * entry_bytes_, 8);
  if (entry_bytes_ < 8) v &= (std::uint64_t{1} << (8 * entry_bytes_)) - 1;
  return v;
}

std::pair<std::uint32_t, std::uint32_t> Index::bucket_bounds(std::size_t bucket) const {
  std::uint32_t lo = 0, hi = 0;
  std::memcpy(&lo, directory_ + bucket * 4, 4);
  std::memcpy(&hi, directory_ + bucket * 4 + 4, 4);
  return {lo, hi};
}

Range Index::search(std::uint64_t hash, std::uint32_t lo, std::uint32_t hi) const {
  const unsigned low = row_bits_ + col_bits_;
  const std::uint64_t rem = ((hash << bucket_bits_) >> bucket_bits_) >> low;
  const std::uint64_t first = rem << low, past = (rem + 1) << low;
  std::size_t a = lo, b = hi;
  while (a < b) {  // lower bound of first
    std::size_t m = a + (b - a) / 2;
    if (entry(m) < first)
      a = m + 1;
    else
      b = m;
  }
  std::size_t c = a, d = hi;
  while (c < d) {  // lower bound of past
    std::size_t m = c + (d - c) / 2;
    if (entry(m) < past)
      c = m + 1;
    else
      d = m;
  }
  return Range{a, c};
}

Range Index::lookup(std::uint64_t hash) const {
  auto [lo, hi] = bucket_bounds(bucket_of(hash));
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
    for (std::size_t i = 0; i < n; ++i)
      __builtin_prefetch(directory_ + bucket_of(hashes[g + i]) * 4);
    for (std::size_t i = 0; i < n; ++i) {
      bounds[i] = bucket_bounds(bucket_of(hashes[g + i]));
      __builtin_prefetch(entries_ + std::size_t{bounds[i].first} * entry_bytes_);
    }
    for (std::size_t i = 0; i < n; ++i)
      out[g + i] = search(hashes[g + i], bounds[i].first, bounds[i].second);
  }
}

std::uint32_t Index::row_at(std::size_t i) const {
  return static_cast<std::uint32_t>((entry(i) >> col_bits_) &
                                    ((std::uint64_t{1} << row_bits_) - 1));
}

std::uint32_t Index::column_at(std::size_t i) const {
  return static_cast<std::uint32_t>(entry(i) & ((std::uint64_t{1} << col_bits_) - 1));
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
