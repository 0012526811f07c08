// Indexed Document Matching (IDM): recognises excerpts of indexed documents
// (board papers, source code, contracts) in message text without keeping
// the documents. Text is normalised (lower case, letters and digits only),
// fingerprinted by winnowing (Schleimer, Wilkerson and Aiken, 2003) and
// each selected k-gram is stored only as a SipHash-2-4 under the secret key
// (the same key file format as EDM), truncated and tagged with its
// document. The index holds no text.
//
// Parameters: k = 32 normalised characters (about six words: shorter
// grams recur across unrelated prose, "ofthe..." runs), window w = 64
// k-grams. Any run of at least w + k - 1 = 95 normalised characters (one
// long sentence) shared by a document and a message yields at least one
// shared fingerprint; on average 2 / (w + 1), about 3 % of positions, are
// kept, which sets the index size.
//
// Index layout (little-endian, memory-mapped read-only): a header (magic,
// key check, profile name, k, w, geometry), the documents (name and number
// of distinct fingerprints), a directory of 2^B uint32 bucket offsets by
// the top B bits of a fingerprint, then one packed entry per (fingerprint,
// document): the next hash bits and the document id, sorted.
//
// Thread model: an Index is immutable and shared; fingerprint and
// match are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "detect/detail/index_file.hpp"
#include "util/result.hpp"
#include "util/siphash.hpp"

namespace cordon::detect::idm {

inline constexpr std::size_t kGram = 32;
inline constexpr std::size_t kWindow = 64;

// Lower-case ASCII letters and digits, and every byte of non-ASCII UTF-8
// (read as letters); everything else (whitespace, punctuation, markup
// left by extraction) is dropped, so re-wrapped, re-cased and
// re-punctuated text normalises the same.
std::string normalise(std::string_view text);

// The winnowed fingerprints of `text` (normalised here), keyed hashes,
// sorted and distinct. A text of fewer than kGram normalised characters
// has none.
std::vector<std::uint64_t> fingerprints(const util::SipKey& key, std::string_view text);

enum class ErrorCode { io, bad_key, bad_index, key_mismatch, profile_mismatch, no_documents };
struct Error {
  ErrorCode code = ErrorCode::io;
  std::string message;
};

// The secret of the keyed fingerprints, a file of the same format as the
// EDM key: 32 hex digits and a newline, mode 0600.
Result<util::SipKey, Error> load_key(const std::filesystem::path& path);
// Loads the key, or creates it (0600, exclusively) when the file is absent.
Result<util::SipKey, Error> load_or_create_key(const std::filesystem::path& path,
                                               bool* created = nullptr);

struct Document {
  std::string name;  // as reported in matches: "board-paper.pdf"
  std::string text;  // extracted text
};

struct BuildStats {
  std::size_t documents = 0;       // indexed
  std::size_t characters = 0;      // normalised characters of the indexed documents
  std::size_t fingerprints = 0;    // entries (fingerprint, document)
  std::size_t boilerplate = 0;     // distinct boilerplate fingerprints left out
  std::size_t index_bytes = 0;     // size of the index file
  std::vector<std::string> empty;  // documents with no fingerprint left (not indexed)
};

// Fingerprints `documents`, drops every fingerprint of the `boilerplate`
// texts (a standard footer or disclaimer never counts) and writes the
// index of profile `profile` to `out` atomically. Fails when no document
// has a fingerprint left.
Result<BuildStats, Error> build_index(std::span<const Document> documents,
                                      std::span<const std::string> boilerplate,
                                      std::string_view profile, const util::SipKey& key,
                                      const std::filesystem::path& out);

class Index {
 public:
  // Maps the file; checks its header, that it was built under `key` and
  // for `profile`.
  static Result<std::shared_ptr<const Index>, Error> open(const std::filesystem::path& path,
                                                          const util::SipKey& key,
                                                          std::string_view profile);
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  const util::SipKey& key() const { return key_; }
  std::size_t documents() const { return names_.size(); }
  const std::string& name(std::uint32_t doc) const { return names_.at(doc); }
  // Distinct fingerprints of a document (boilerplate left out).
  std::uint32_t total(std::uint32_t doc) const { return totals_.at(doc); }
  std::size_t entries() const { return entries_count_; }
  std::size_t file_bytes() const { return file_.size(); }

  // The documents having fingerprint `fp`, appended to `docs`.
  void lookup(std::uint64_t fp, std::vector<std::uint32_t>& docs) const;

 private:
  Index() = default;

  util::SipKey key_{};
  index_file::MappedFile file_;
  index_file::Tables tables_;
  std::vector<std::string> names_;
  std::vector<std::uint32_t> totals_;
  std::size_t entries_count_ = 0;
  unsigned bucket_bits_ = 0, rem_bits_ = 0, doc_bits_ = 0;
};

// One (fingerprint, document) pair found in text.
struct Hit {
  std::uint32_t doc = 0;
  std::uint64_t fp = 0;
  bool operator<(const Hit& o) const { return doc != o.doc ? doc < o.doc : fp < o.fp; }
  bool operator==(const Hit&) const = default;
};

// Every indexed (fingerprint, document) among the fingerprints of `text`.
std::vector<Hit> find_hits(const Index& index, std::string_view text);

struct DocumentMatch {
  std::uint32_t doc = 0;
  std::size_t matched = 0;  // distinct fingerprints of the document found
  unsigned percent = 0;     // matched * 100 / total, rounded down
};

// The documents with at least `min_percent` % of their fingerprints among
// `hits` (which may gather several texts: duplicates count once), the
// highest share first.
std::vector<DocumentMatch> match_documents(const Index& index, std::vector<Hit> hits,
                                           unsigned min_percent);

}  // namespace cordon::detect::idm
