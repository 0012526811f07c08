// IDM: normalisation, winnowing, building the index of a profile's
// documents and opening and searching it (see idm.hpp for the parameters
// and the layout).
#include "detect/idm.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "detect/detail/index_file.hpp"

namespace cordon::detect::idm {
namespace {

using index_file::bits_for;
using index_file::get;
using index_file::put;

constexpr index_file::IndexKind kKind{"IDM", "idm.key_file", "CDNIDM01", "cordon idm key check v1"};
constexpr unsigned kMinRemBits = 22;  // hash bits kept below the bucket's

Error err(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

Error err(index_file::FileError e) {
  return index_file::to_error<Error>(std::move(e));
}

// 0 for a byte normalisation drops, else the byte it becomes.
constexpr std::array<char, 256> kNormal = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 256; ++c) {
    if (c >= '0' && c <= '9') t[c] = static_cast<char>(c);
    if (c >= 'a' && c <= 'z') t[c] = static_cast<char>(c);
    if (c >= 'A' && c <= 'Z') t[c] = static_cast<char>(c + 32);
    if (c >= 0x80) t[c] = static_cast<char>(c);
  }
  return t;
}();

// Top `bits` bits of a fingerprint: what the index keeps of it.
std::uint64_t top(std::uint64_t fp, unsigned bits) {
  return bits >= 64 ? fp : fp >> (64 - bits);
}

}  // namespace

Result<util::SipKey, Error> load_key(const std::filesystem::path& path) {
  return index_file::to_result<Error>(index_file::load_key(kKind, path));
}

Result<util::SipKey, Error> load_or_create_key(const std::filesystem::path& path, bool* created) {
  return index_file::to_result<Error>(index_file::load_or_create_key(kKind, path, created));
}

std::string normalise(std::string_view text) {
  std::string out(text.size(), '\0');
  char* o = out.data();
  for (unsigned char c : text) {
    char n = kNormal[c];
    *o = n;
    o += n != 0;  // branch-free: most bytes are kept
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
  return out;
}

std::vector<std::uint64_t> fingerprints(const util::SipKey& key, std::string_view text) {
  std::vector<std::uint64_t> out;
  const std::string norm = normalise(text);
  const std::size_t n = norm.size();
  if (n < kGram) return out;
  // Selection runs on a rolling cyclic-polynomial hash (buzhash) over a
  // table derived from the key: one rotation and two table lookups per
  // byte, and every byte of the gram moves its bits. Only the selected
  // grams get the keyed SipHash.
  std::array<std::uint64_t, 256> table;
  std::uint64_t seed = util::siphash24(key, "cordon idm table");
  for (auto& t : table) {  // splitmix64
    std::uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    t = z ^ (z >> 31);
  }
  const std::size_t grams = n - kGram + 1;
  const auto* s = reinterpret_cast<const unsigned char*>(norm.data());
  std::array<std::uint64_t, kWindow> ring{};
  out.reserve(grams * 2 / (kWindow + 1) + 2);
  auto keep = [&](std::size_t at) { out.push_back(util::siphash24(key, norm.substr(at, kGram))); };
  std::uint64_t h = 0;
  for (std::size_t i = 0; i < kGram; ++i) h = std::rotl(h, 1) ^ table[s[i]];
  std::size_t min_at = 0;
  bool have_min = false;
  for (std::size_t i = 0; i < grams; ++i) {
    if (i > 0)
      h = std::rotl(h, 1) ^ std::rotl(table[s[i - 1]], kGram % 64) ^ table[s[i + kGram - 1]];
    const std::uint64_t v = h;
    ring[i % kWindow] = v;
    if (i + 1 < kWindow && i + 1 < grams) continue;
    const std::size_t first = i + 1 >= kWindow ? i + 1 - kWindow : 0;
    if (!have_min || min_at < first) {
      // The minimum left the window: the rightmost minimum of the window.
      min_at = i;
      for (std::size_t j = i; j-- > first;)
        if (ring[j % kWindow] < ring[min_at % kWindow]) min_at = j;
      have_min = true;
      keep(min_at);
    } else if (v < ring[min_at % kWindow]) {
      // A tie keeps the gram already chosen ("robust winnowing"): a run of
      // equal grams ("aaaa...") yields one fingerprint per window, not one
      // per position.
      min_at = i;
      keep(min_at);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<BuildStats, Error> build_index(std::span<const Document> documents,
                                      std::span<const std::string> boilerplate,
                                      std::string_view profile, const util::SipKey& key,
                                      const std::filesystem::path& out) {
  BuildStats stats;
  std::vector<std::uint64_t> common;
  for (const auto& text : boilerplate) {
    auto fps = fingerprints(key, text);
    common.insert(common.end(), fps.begin(), fps.end());
  }
  std::sort(common.begin(), common.end());
  common.erase(std::unique(common.begin(), common.end()), common.end());
  stats.boilerplate = common.size();

  std::vector<std::pair<std::vector<std::uint64_t>, const Document*>> docs;
  std::size_t total = 0;
  for (const auto& d : documents) {
    auto fps = fingerprints(key, d.text);
    std::vector<std::uint64_t> kept;
    kept.reserve(fps.size());
    std::set_difference(fps.begin(), fps.end(), common.begin(), common.end(),
                        std::back_inserter(kept));
    if (kept.empty()) {
      stats.empty.push_back(d.name);
      continue;
    }
    stats.characters += normalise(d.text).size();
    total += kept.size();
    docs.emplace_back(std::move(kept), &d);
  }
  if (docs.empty())
    return fail(err(ErrorCode::no_documents,
                    "no document has text to fingerprint (" + std::to_string(kGram) +
                        " letters and digits at least, beyond the boilerplate)"));
  if (docs.size() >= (std::size_t{1} << 24))
    return fail(err(ErrorCode::no_documents, "too many documents for one index"));

  const unsigned doc_bits = bits_for(docs.size());
  const unsigned bucket_bits = std::clamp(
      static_cast<unsigned>(std::bit_width(std::max<std::size_t>(total / 8, 1))), 4u, 28u);
  const unsigned entry_bytes = (kMinRemBits + doc_bits + 7) / 8;
  const unsigned rem_bits = entry_bytes * 8 - doc_bits;
  const unsigned hash_bits = bucket_bits + rem_bits;  // <= 28 + 29

  std::vector<std::uint64_t> keys;
  keys.reserve(total);
  for (std::size_t d = 0; d < docs.size(); ++d)
    for (std::uint64_t fp : docs[d].first) keys.push_back(top(fp, hash_bits) << doc_bits | d);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<std::uint32_t> totals(docs.size(), 0);
  const std::uint64_t doc_mask = (std::uint64_t{1} << doc_bits) - 1;
  for (std::uint64_t k : keys) ++totals[k & doc_mask];

  std::string file = index_file::start_file(kKind, key);
  put<std::uint32_t>(file, kGram);
  put<std::uint32_t>(file, kWindow);
  put<std::uint32_t>(file, static_cast<std::uint32_t>(docs.size()));
  put<std::uint64_t>(file, keys.size());
  put<std::uint32_t>(file, bucket_bits);
  put<std::uint32_t>(file, rem_bits);
  put<std::uint32_t>(file, doc_bits);
  put<std::uint32_t>(file, entry_bytes);
  std::string_view pname = profile.substr(0, 0xffff);
  put<std::uint16_t>(file, static_cast<std::uint16_t>(pname.size()));
  file.append(pname);
  for (std::size_t d = 0; d < docs.size(); ++d) {
    put<std::uint32_t>(file, totals[d]);
    std::string_view name = std::string_view(docs[d].second->name).substr(0, 0xffff);
    put<std::uint16_t>(file, static_cast<std::uint16_t>(name.size()));
    file.append(name);
  }
  index_file::append_tables(file, keys, bucket_bits, rem_bits + doc_bits, entry_bytes);
  if (auto written = index_file::write_file(out, file); !written) return fail(err(written.error()));
  stats.documents = docs.size();
  stats.fingerprints = keys.size();
  stats.index_bytes = file.size();
  return stats;
}

Result<std::shared_ptr<const Index>, Error> Index::open(const std::filesystem::path& path,
                                                        const util::SipKey& key,
                                                        std::string_view profile) {
  auto mapped = index_file::map_index(kKind, path, index_file::Access::normal);
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
  std::uint64_t check = 0, entries = 0;
  std::uint32_t k = 0, w = 0, docs = 0, bb = 0, rb = 0, db = 0, eb = 0;
  std::uint16_t plen = 0;
  if (!get(p, n, at, check) || !get(p, n, at, k) || !get(p, n, at, w) || !get(p, n, at, docs) ||
      !get(p, n, at, entries) || !get(p, n, at, bb) || !get(p, n, at, rb) || !get(p, n, at, db) ||
      !get(p, n, at, eb) || !get(p, n, at, plen) || at + plen > n)
    return bad("truncated header");
  if (auto ok = index_file::check_key(kKind, path, check, key); !ok) return fail(err(ok.error()));
  std::string_view built_for(reinterpret_cast<const char*>(p + at), plen);
  at += plen;
  if (built_for != profile)
    return fail(err(ErrorCode::profile_mismatch,
                    path.string() + " is the index of the IDM profile '" + std::string(built_for) +
                        "', not of '" + std::string(profile) + "': run cordon idm index again"));
  if (k != kGram || w != kWindow)
    return fail(err(ErrorCode::bad_index, path.string() +
                                              " was built with other winnowing parameters: run "
                                              "cordon idm index again"));
  if (bb < 4 || bb > 28 || db == 0 || db > 24 || docs == 0 || eb == 0 || eb > 8 ||
      rb + db != eb * 8 || bb + rb + db > 64)
    return bad("inconsistent header");
  for (std::uint32_t d = 0; d < docs; ++d) {
    std::uint32_t total = 0;
    std::uint16_t len = 0;
    if (!get(p, n, at, total) || !get(p, n, at, len) || at + len > n)
      return bad("truncated document list");
    index->totals_.push_back(total);
    index->names_.emplace_back(reinterpret_cast<const char*>(p + at), len);
    at += len;
  }
  if (!index->tables_.locate(index->file_, at, bb, entries, eb)) return bad("wrong size");
  index->entries_count_ = entries;
  index->bucket_bits_ = bb;
  index->rem_bits_ = rb;
  index->doc_bits_ = db;
  return std::shared_ptr<const Index>(std::move(index));
}

void Index::lookup(std::uint64_t fp, std::vector<std::uint32_t>& docs) const {
  const std::uint64_t t = top(fp, bucket_bits_ + rem_bits_);
  const std::size_t bucket = t >> rem_bits_;
  const std::uint64_t rem = t & ((std::uint64_t{1} << rem_bits_) - 1);
  const auto [lo, hi] = tables_.bucket(bucket);
  const std::uint64_t first = rem << doc_bits_, past = (rem + 1) << doc_bits_;
  std::size_t a = lo, b = hi;
  while (a < b) {
    std::size_t m = a + (b - a) / 2;
    if (tables_.entry(m) < first)
      a = m + 1;
    else
      b = m;
  }
  const std::uint64_t doc_mask = (std::uint64_t{1} << doc_bits_) - 1;
  for (; a < hi; ++a) {
    std::uint64_t e = tables_.entry(a);
    if (e >= past) break;
    std::uint32_t d = static_cast<std::uint32_t>(e & doc_mask);
    if (d < names_.size()) docs.push_back(d);
  }
}

std::vector<Hit> find_hits(const Index& index, std::string_view text) {
  std::vector<Hit> hits;
  std::vector<std::uint32_t> docs;
  for (std::uint64_t fp : fingerprints(index.key(), text)) {
    docs.clear();
    index.lookup(fp, docs);
    for (std::uint32_t d : docs) hits.push_back(Hit{d, fp});
  }
  return hits;
}

std::vector<DocumentMatch> match_documents(const Index& index, std::vector<Hit> hits,
                                           unsigned min_percent) {
  std::sort(hits.begin(), hits.end());
  hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
  std::vector<DocumentMatch> out;
  for (std::size_t i = 0; i < hits.size();) {
    std::size_t j = i;
    while (j < hits.size() && hits[j].doc == hits[i].doc) ++j;
    const std::uint32_t doc = hits[i].doc;
    const std::size_t total = index.total(doc);
    // Two fingerprints may share the bits the index keeps.
    const std::size_t matched = std::min(j - i, total);
    if (total > 0 && matched * 100 >= static_cast<std::size_t>(min_percent) * total)
      out.push_back(DocumentMatch{doc, matched, static_cast<unsigned>(matched * 100 / total)});
    i = j;
  }
  std::stable_sort(out.begin(), out.end(), [](const DocumentMatch& a, const DocumentMatch& b) {
    return a.percent > b.percent;
  });
  return out;
}

}  // namespace cordon::detect::idm
