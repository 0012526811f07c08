// The file plumbing EDM and IDM indexes share (see detail/index_file.hpp):
// the key file, the start and the tables of an index, writing it and
// mapping it back.
#include "detect/detail/index_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>

#include "util/fs.hpp"
#include "util/random.hpp"

namespace cordon::detect::index_file {
namespace {

// Shorter files cannot hold any kind's header.
constexpr std::size_t kMinIndexBytes = 64;

FileError err(FileErrorCode code, std::string message) {
  return FileError{code, std::move(message)};
}

std::string key_name(const IndexKind& kind) {
  return "the " + std::string(kind.name) + " key";
}

}  // namespace

Result<util::SipKey, FileError> load_key(const IndexKind& kind, const std::filesystem::path& path) {
  auto text = util::read_file(path);
  if (!text)
    return fail(
        err(FileErrorCode::io, "cannot read " + key_name(kind) + " " + text.error().message));
  std::string_view t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' '))
    t.remove_suffix(1);
  auto not_hex = [&] {
    return fail(err(FileErrorCode::bad_key,
                    key_name(kind) + " " + path.string() + " is not 32 hexadecimal digits"));
  };
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (t.size() != 32) return not_hex();
  util::SipKey key{};
  for (std::size_t i = 0; i < 16; ++i) {
    int hi = nibble(t[2 * i]), lo = nibble(t[2 * i + 1]);
    if (hi < 0 || lo < 0) return not_hex();
    key[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return key;
}

Result<util::SipKey, FileError> load_or_create_key(const IndexKind& kind,
                                                   const std::filesystem::path& path,
                                                   bool* created) {
  if (created) *created = false;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    auto made = util::create_file_durably(path, util::random_hex(16) + "\n", 0600);
    // EEXIST: another indexer created it meanwhile; its key is the one.
    if (!made && made.error().err != EEXIST)
      return fail(
          err(FileErrorCode::io, "cannot create " + key_name(kind) + " " + made.error().message));
    if (made && created) *created = true;
  }
  return load_key(kind, path);
}

unsigned bits_for(std::size_t n) {
  return std::max(1u, static_cast<unsigned>(std::bit_width(n > 0 ? n - 1 : 0)));
}

std::string start_file(const IndexKind& kind, const util::SipKey& key) {
  std::string file(kind.magic.substr(0, kMagicBytes));
  put<std::uint64_t>(file, util::siphash24(key, kind.key_check));
  return file;
}

void append_tables(std::string& file, std::span<const std::uint64_t> keys, unsigned bucket_bits,
                   unsigned low_bits, unsigned entry_bytes) {
  while (file.size() % 8) file.push_back('\0');
  const std::size_t buckets = std::size_t{1} << bucket_bits;
  const std::size_t dir_at = file.size();
  file.resize(dir_at + (buckets + 1) * 4);
  const std::size_t entries_at = file.size();
  file.resize(entries_at + keys.size() * entry_bytes + 8);
  auto put_dir = [&](std::size_t bucket, std::uint32_t v) {
    std::memcpy(file.data() + dir_at + bucket * 4, &v, 4);
  };
  const std::uint64_t low_mask =
      low_bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << low_bits) - 1;
  std::size_t b = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::size_t bucket = low_bits >= 64 ? 0 : keys[i] >> low_bits;
    while (b <= bucket) put_dir(b++, static_cast<std::uint32_t>(i));
    const std::uint64_t e = keys[i] & low_mask;
    std::memcpy(file.data() + entries_at + i * entry_bytes, &e, entry_bytes);
  }
  while (b <= buckets) put_dir(b++, static_cast<std::uint32_t>(keys.size()));
}

Status<FileError> write_file(const std::filesystem::path& out, std::string_view file) {
  std::filesystem::path dir = out.has_parent_path() ? out.parent_path() : ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto written = util::atomic_replace(dir, out.filename().string(), file, 0600);
  if (!written)
    return fail(err(FileErrorCode::io, "cannot write the index " + written.error().message));
  return Ok{};
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_) munmap(const_cast<unsigned char*>(data_), size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_) munmap(const_cast<unsigned char*>(data_), size_);
}

FileError not_usable(const IndexKind& kind, const std::filesystem::path& path,
                     std::string_view why) {
  return err(FileErrorCode::bad_index, path.string() + " is not a usable " +
                                           std::string(kind.name) + " index: " + std::string(why));
}

Result<MappedFile, FileError> map_index(const IndexKind& kind, const std::filesystem::path& path,
                                        Access access) {
  auto sys = [&](std::string_view what) {
    return fail(err(FileErrorCode::io, std::string(what) + " the " + std::string(kind.name) +
                                           " index " + path.string() + ": " +
                                           std::strerror(errno)));
  };
  util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys("cannot open");
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return sys("cannot stat");
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < kMinIndexBytes) return fail(not_usable(kind, path, "too short"));
  void* m = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
  if (m == MAP_FAILED) return sys("cannot map");
  MappedFile file(static_cast<const unsigned char*>(m), size);
  if (access == Access::random) madvise(m, size, MADV_RANDOM);
  if (std::memcmp(file.data(), kind.magic.data(), kMagicBytes) != 0)
    return fail(not_usable(kind, path, "wrong magic number"));
  return file;
}

Status<FileError> check_key(const IndexKind& kind, const std::filesystem::path& path,
                            std::uint64_t stored, const util::SipKey& key) {
  if (stored != util::siphash24(key, kind.key_check))
    return fail(err(FileErrorCode::key_mismatch, path.string() + " was built with another " +
                                                     std::string(kind.name) + " key (" +
                                                     std::string(kind.key_setting) + ")"));
  return Ok{};
}

bool Tables::locate(const MappedFile& file, std::size_t at, unsigned bucket_bits,
                    std::size_t entries, unsigned entry_bytes) {
  at = (at + 7) / 8 * 8;
  const std::size_t buckets = std::size_t{1} << bucket_bits;
  if (at + (buckets + 1) * 4 + entries * entry_bytes + 8 != file.size()) return false;
  directory_ = file.data() + at;
  entries_ = file.data() + at + (buckets + 1) * 4;
  entry_bytes_ = entry_bytes;
  return true;
}

}  // namespace cordon::detect::index_file
