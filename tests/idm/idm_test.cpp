// Indexed Document Matching: normalisation, winnowing, the index (no text,
// key and profile checks), excerpts that must match however re-wrapped,
// re-cased or re-punctuated, and the unrelated documents, short excerpts
// and boilerplate that must not; then through a loaded configuration.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "config/config.hpp"
#include "detect/idm.hpp"
#include "policy/evaluate.hpp"
#include "policy/policy_set.hpp"
#include "util/fs.hpp"

namespace cordon::detect::idm {
namespace {

namespace fs = std::filesystem;

// Prose of `words` words from a fixed vocabulary, different per seed.
std::string prose(unsigned seed, std::size_t words) {
  static const char* kWords[] = {
      "board",    "revenue", "quarter", "forecast", "merger",  "the",    "of",      "and",
      "strategy", "risk",    "market",  "growth",   "capital", "margin", "to",      "in",
      "acquire",  "target",  "plan",    "budget",   "cost",    "review", "a",       "is",
      "approved", "pending", "europe",  "asia",     "product", "launch", "delay",   "staff",
      "legal",    "counsel", "advice",  "share",    "price",   "offer",  "premium", "deal"};
  std::mt19937 rng(seed);
  std::string out;
  for (std::size_t i = 0; i < words; ++i) {
    if (i) out += (i % 13 == 0) ? ".\n" : " ";
    out += kWords[rng() % std::size(kWords)];
  }
  return out + ".\n";
}

// The same words, re-wrapped at 30 columns, upper-cased and re-punctuated.
std::string mangle(std::string_view text) {
  std::string out;
  std::size_t col = 0;
  for (char c : text) {
    if (c == '.' || c == '\n') c = ' ';
    if (c == ' ') {
      if (col > 30) {
        out += ",\r\n  ";
        col = 0;
      } else {
        out += " - ";
      }
      continue;
    }
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    ++col;
  }
  return out;
}

const std::string kFooter =
    "This document is confidential and intended solely for the board of directors of Example "
    "Holdings. Do not forward, copy or distribute without the written consent of the company "
    "secretary.\n";

class IdmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cordon-idm-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "keys");
    fs::create_directories(dir_ / "index");
    auto k = load_or_create_key(dir_ / "keys/idm.key");
    ASSERT_TRUE(k) << k.error().message;
    key_ = *k;
    docs_ = {{"board-paper.pdf", prose(1, 1500) + kFooter},
             {"merger.docx", prose(2, 1500) + kFooter},
             {"notes.txt", prose(3, 400)}};
    std::vector<std::string> boilerplate = {kFooter};
    auto stats = build_index(docs_, boilerplate, "board", key_, dir_ / "index/board.idm");
    ASSERT_TRUE(stats) << stats.error().message;
    stats_ = *stats;
    auto opened = Index::open(dir_ / "index/board.idm", key_, "board");
    ASSERT_TRUE(opened) << opened.error().message;
    index_ = *opened;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<DocumentMatch> match(std::string_view text, unsigned min_percent) {
    return match_documents(*index_, find_hits(*index_, text), min_percent);
  }
  // The share of document `doc` found in `text` (0 when none).
  unsigned share(std::string_view text, std::uint32_t doc) {
    for (const auto& m : match(text, 1))
      if (m.doc == doc) return m.percent;
    return 0;
  }

  fs::path dir_;
  util::SipKey key_{};
  std::vector<Document> docs_;
  BuildStats stats_;
  std::shared_ptr<const Index> index_;
};

TEST(IdmNormalise, KeepsOnlyLowerCaseLettersAndDigits) {
  EXPECT_EQ(normalise("The Q3 Board-Paper,\r\n  (DRAFT)!"), "theq3boardpaperdraft");
  EXPECT_EQ(normalise("Caf\xC3\xA9 1.2"),
            "caf\xC3\xA9"
            "12");
}

TEST(IdmFingerprints, AreKeyedAndDenseAsWinnowingPromises) {
  util::SipKey other{};
  other[0] = 1;
  std::string text = prose(9, 3000);
  auto a = fingerprints(util::SipKey{}, text);
  auto b = fingerprints(other, text);
  ASSERT_FALSE(a.empty());
  std::vector<std::uint64_t> common;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(common));
  EXPECT_TRUE(common.empty());  // another key, other hashes
  const double n = static_cast<double>(normalise(text).size());
  const double density = static_cast<double>(a.size()) / n;
  EXPECT_GT(density, 1.0 / kWindow);        // at least one per window
  EXPECT_LT(density, 3.0 / (kWindow + 1));  // about 2 / (w + 1)
  EXPECT_TRUE(fingerprints(util::SipKey{}, "too short to fingerprint").empty());
}

TEST_F(IdmTest, TheIndexHoldsNoTextAndIsSmall) {
  EXPECT_EQ(stats_.documents, 3u);
  EXPECT_GT(stats_.boilerplate, 0u);
  EXPECT_LT(static_cast<double>(stats_.index_bytes) / static_cast<double>(stats_.characters), 0.25);
  auto bytes = util::read_file(dir_ / "index/board.idm");
  ASSERT_TRUE(bytes);
  std::string norm = normalise(docs_[0].text);
  for (std::size_t at = 0; at + 12 < norm.size(); at += 997)
    EXPECT_EQ(bytes->find(norm.substr(at, 12)), std::string::npos);
  EXPECT_EQ(bytes->find("revenue"), std::string::npos);
  EXPECT_NE(bytes->find("board-paper.pdf"), std::string::npos);  // names are reported
}

TEST_F(IdmTest, AWholeDocumentMatchesItselfFully) {
  auto found = match(docs_[1].text, 90);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(index_->name(found[0].doc), "merger.docx");
  EXPECT_EQ(found[0].percent, 100u);
}

TEST_F(IdmTest, ARewrappedRecasedRepunctuatedExcerptMatchesItsShare) {
  const std::string& text = docs_[0].text;
  std::string half = text.substr(text.size() / 4, text.size() / 2);
  unsigned plain = share(half, 0);
  EXPECT_GE(plain, 40u);
  EXPECT_LE(plain, 60u);
  unsigned mangled = share(mangle(half), 0);
  EXPECT_GE(mangled, plain - 2);  // only the edges of the excerpt may differ
  EXPECT_EQ(share(half, 1), 0u);
  // Quoted inside other text, it still counts.
  EXPECT_GE(share(prose(77, 500) + "\n> " + mangle(half) + "\n" + prose(78, 500), 0), plain - 2);
  auto fired = match(mangle(half), 30);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(index_->name(fired[0].doc), "board-paper.pdf");
}

TEST_F(IdmTest, UnrelatedTextShortExcerptsAndBoilerplateDoNotMatch) {
  EXPECT_TRUE(match(prose(4, 3000), 1).empty());     // the same vocabulary, other text
  EXPECT_TRUE(match(kFooter + kFooter, 1).empty());  // boilerplate never counts
  const std::string& text = docs_[0].text;
  std::string tenth = text.substr(text.size() / 3, text.size() / 10);
  unsigned s = share(tenth, 0);
  EXPECT_GT(s, 0u);
  EXPECT_LT(s, 20u);
  EXPECT_TRUE(match(tenth, 20).empty());  // below the threshold
  // A sentence is too little to fingerprint reliably, a word never.
  EXPECT_TRUE(match("board revenue quarter", 1).empty());
}

TEST_F(IdmTest, AnIndexOpensOnlyWithItsKeyAndForItsProfile) {
  util::SipKey other = key_;
  other[3] ^= 0xff;
  auto wrong_key = Index::open(dir_ / "index/board.idm", other, "board");
  ASSERT_FALSE(wrong_key);
  EXPECT_EQ(wrong_key.error().code, ErrorCode::key_mismatch);
  EXPECT_NE(wrong_key.error().message.find("another IDM key (idm.key_file)"), std::string::npos)
      << wrong_key.error().message;
  auto wrong_profile = Index::open(dir_ / "index/board.idm", key_, "hr");
  ASSERT_FALSE(wrong_profile);
  EXPECT_EQ(wrong_profile.error().code, ErrorCode::profile_mismatch);
  std::ofstream(dir_ / "index/bad.idm") << "CDNIDM01 but nothing else of an index at all, really";
  auto bad = Index::open(dir_ / "index/bad.idm", key_, "board");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::bad_index);
  std::vector<Document> none = {{"empty.txt", "too short"}};
  EXPECT_FALSE(build_index(none, {}, "board", key_, dir_ / "index/none.idm"));
}

TEST_F(IdmTest, AKeyFileThatIsNotAKeyIsRefusedNamingIdm) {
  std::ofstream(dir_ / "keys/bad.key") << "not a key\n";
  auto bad = load_key(dir_ / "keys/bad.key");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::bad_key);
  EXPECT_NE(bad.error().message.find("the IDM key " + (dir_ / "keys/bad.key").string() +
                                     " is not 32 hexadecimal digits"),
            std::string::npos)
      << bad.error().message;
  EXPECT_EQ(bad.error().message.find("EDM"), std::string::npos) << bad.error().message;
  auto absent = load_key(dir_ / "keys/none.key");
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code, ErrorCode::io);
  EXPECT_NE(absent.error().message.find("cannot read the IDM key"), std::string::npos)
      << absent.error().message;
  bool created = true;
  auto again = load_or_create_key(dir_ / "keys/idm.key", &created);
  ASSERT_TRUE(again);
  EXPECT_FALSE(created);
  EXPECT_EQ(*again, key_);
}

// Through the configuration: the index is checked at load (check-config,
// reload); a policy fires naming the document and its share, across body
// and attachment together, and not below its threshold.
TEST_F(IdmTest, APolicyFiresNamingTheDocumentAndBadReferencesAreErrors) {
  auto yaml = [&](std::string item, std::string index = "index/board.idm",
                  std::string name = "board") {
    return "idm:\n  key_file: " + (dir_ / "keys/idm.key").string() +
           "\n  profiles:\n    - {name: " + name + ", index: " + (dir_ / index).string() +
           "}\npolicies:\n  - name: Board papers\n    match:\n      any:\n        - " + item +
           "\n    respond:\n      - block: \"confidential document\"\n";
  };
  auto loaded = config::load_config_text(yaml("idm: {profile: board, min_percent: 40}"), "t.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  policy::Evaluator evaluator((*loaded)->policy_set);
  const std::string& text = docs_[0].text;
  auto message = [&](std::string body_text, std::string attachment_text) {
    mime::Message m;
    mime::Component body;
    body.kind = mime::ComponentKind::body;
    body.name = "body";
    body.text = std::move(body_text);
    m.components.push_back(body);
    mime::Component att;
    att.kind = mime::ComponentKind::attachment;
    att.name = "attachment:q3.docx";
    att.text = std::move(attachment_text);
    m.components.push_back(att);
    return m;
  };
  // A quarter in the body and a quarter in the attachment: half together.
  auto split = evaluator.evaluate(message(mangle(text.substr(0, text.size() / 4)),
                                          text.substr(text.size() / 4, text.size() / 4 + 200)),
                                  {"a@corp.test", {"b@ext.test"}});
  ASSERT_TRUE(split);
  ASSERT_EQ(split->policies.size(), 1u);
  const auto& m = split->policies[0].matches.at(0);
  EXPECT_EQ(m.rule, "idm:board");
  ASSERT_EQ(m.samples.size(), 1u);
  EXPECT_EQ(m.samples[0].rfind("board-paper.pdf ", 0), 0u) << m.samples[0];
  EXPECT_EQ(m.samples[0].back(), '%');
  auto below = evaluator.evaluate(message("Hello", text.substr(0, text.size() / 5)),
                                  {"a@corp.test", {"b@ext.test"}});
  ASSERT_TRUE(below);
  EXPECT_TRUE(below->policies.empty());

  auto unknown = config::load_config_text(yaml("idm: {profile: hr}"), "t.yaml");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown IDM profile 'hr'"), std::string::npos);
  auto missing =
      config::load_config_text(yaml("idm: {profile: board}", "index/none.idm"), "t.yaml");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cannot open the IDM index"), std::string::npos);
  auto other =
      config::load_config_text(yaml("idm: {profile: legal}", "index/board.idm", "legal"), "t.yaml");
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("index of the IDM profile 'board'"), std::string::npos);
  // An index under another key: the message names the IDM key and its setting.
  util::SipKey another = key_;
  another[0] ^= 1;
  ASSERT_TRUE(build_index(docs_, {}, "board", another, dir_ / "index/other.idm"));
  auto rekeyed =
      config::load_config_text(yaml("idm: {profile: board}", "index/other.idm"), "t.yaml");
  ASSERT_FALSE(rekeyed);
  EXPECT_NE(rekeyed.error().message.find("another IDM key (idm.key_file)"), std::string::npos)
      << rekeyed.error().message;
  auto beside = config::load_config_text(yaml("idm: {profile: board}", "keys/board.idm"), "t.yaml");
  ASSERT_FALSE(beside);
  EXPECT_NE(beside.error().message.find("keep the key apart"), std::string::npos);
  auto percent = config::load_config_text(yaml("idm: {profile: board, min_percent: 0}"), "t.yaml");
  ASSERT_FALSE(percent);
}

}  // namespace
}  // namespace cordon::detect::idm
