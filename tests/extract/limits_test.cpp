// Limits that defeat decompression bombs: a 1 GiB-of-zeros zip, a 42.zip
// style nested bomb, archives nested deeper than allowed, too many files,
// and the wall-time limit. Each is contained (bounded time, bounded data)
// and reported as a limit hit, never a crash or hang.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "extract/corpus.hpp"
#include "extract/extract.hpp"

using cordon::extract::Extraction;
using cordon::extract::Extractor;
using cordon::extract::LimitKind;
using cordon::extract::Limits;
using cordon::testing::AttachmentCorpus;

namespace {

class ExtractLimits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { corpus_ = std::make_unique<AttachmentCorpus>(true); }
  static void TearDownTestSuite() { corpus_.reset(); }
  void SetUp() override { ASSERT_TRUE(corpus_->ok()) << corpus_->error(); }

  static Extraction extract(const Limits& limits, const std::string& name) {
    auto made = Extractor::create(limits);
    EXPECT_TRUE(made);
    return made->extract(name, corpus_->read(name));
  }

  static bool hit(const Extraction& e, LimitKind kind) {
    return std::any_of(e.limits.begin(), e.limits.end(),
                       [&](const auto& h) { return h.kind == kind; });
  }

  static std::size_t expanded(const Extraction& e) {
    std::size_t total = 0;
    for (std::size_t i = 1; i < e.items.size(); ++i) total += e.items[i].size;
    return total;
  }

  static std::unique_ptr<AttachmentCorpus> corpus_;
};

std::unique_ptr<AttachmentCorpus> ExtractLimits::corpus_;

using Clock = std::chrono::steady_clock;

TEST_F(ExtractLimits, GigabyteOfZerosStopsAtTheCompressionRatio) {
  Limits limits;  // the file limit out of the way: the ratio must stop it
  limits.max_file_bytes = 1u << 30;
  auto start = Clock::now();
  auto e = extract(limits, "zeros.zip");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  ASSERT_TRUE(hit(e, LimitKind::ratio));
  EXPECT_EQ(e.limits.front().where, "zeros.zip");
  ASSERT_EQ(e.items.size(), 2u);
  EXPECT_TRUE(e.items[1].truncated);
  // Never more than ratio x archive size was expanded.
  EXPECT_LE(e.items[1].size, corpus_->read("zeros.zip").size() * limits.max_ratio);
  EXPECT_GT(e.items[1].size, 0u);
}

TEST_F(ExtractLimits, PerFileLimitCutsAMemberBeforeTheRatioDoes) {
  Limits limits;
  limits.max_file_bytes = 8u << 20;
  auto e = extract(limits, "zeros.zip");
  ASSERT_TRUE(hit(e, LimitKind::file_bytes));
  EXPECT_FALSE(hit(e, LimitKind::ratio));
  EXPECT_EQ(e.limits.front().where, "zeros.zip/zeros.bin");
  EXPECT_EQ(e.items.at(1).size, 8u << 20);
}

TEST_F(ExtractLimits, NestedBombExhaustsTheMessageBudgetQuickly) {
  Limits limits;
  limits.max_message_bytes = 64u << 20;
  auto start = Clock::now();
  auto e = extract(limits, "42.zip");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(hit(e, LimitKind::message_bytes) || hit(e, LimitKind::ratio));
  EXPECT_LE(expanded(e), (64u << 20) * 4);  // every byte counted at most once per level
}

TEST_F(ExtractLimits, NestedBombWithDefaultLimitsIsContained) {
  auto start = Clock::now();
  auto e = extract(Limits{}, "42.zip");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));
  EXPECT_FALSE(e.limits.empty());
}

TEST_F(ExtractLimits, ArchivesNestedDeeperThanTheLimitAreNotExpanded) {
  Limits limits;
  limits.max_depth = 4;
  auto e = extract(limits, "deep.zip");
  ASSERT_TRUE(hit(e, LimitKind::depth));
  EXPECT_EQ(e.items.size(), 5u);  // the attachment and four levels
  EXPECT_TRUE(e.items.back().truncated);
  EXPECT_EQ(e.items.back().path, "d1.zip/d2.zip/d3.zip/d4.zip");
  for (const auto& item : e.items) EXPECT_EQ(item.text.find("4916338506082832"), std::string::npos);

  limits.max_depth = 12;
  auto all = extract(limits, "deep.zip");
  EXPECT_TRUE(all.limits.empty());
  EXPECT_EQ(all.items.back().text, "card 4916338506082832\n");
}

TEST_F(ExtractLimits, FileCountLimitStopsTheWalk) {
  Limits limits;
  limits.max_files = 2;
  auto e = extract(limits, "bundle.tar.gz");
  EXPECT_FALSE(hit(e, LimitKind::files));
  limits.max_files = 1;
  e = extract(limits, "bundle.tar.gz");
  ASSERT_TRUE(hit(e, LimitKind::files));
  EXPECT_EQ(e.items.size(), 2u);
}

TEST_F(ExtractLimits, WallTimeLimitStopsExpansion) {
  Limits limits;
  limits.max_time = std::chrono::milliseconds(0);
  auto e = extract(limits, "report.zip");
  EXPECT_TRUE(hit(e, LimitKind::time));
  EXPECT_TRUE(e.items.empty());
}

TEST_F(ExtractLimits, ExpandOnAMessageNamesTheComponentAndRecordsTheProblem) {
  Limits limits;
  limits.max_depth = 2;
  auto made = Extractor::create(limits);
  ASSERT_TRUE(made);
  cordon::mime::Message message;
  cordon::mime::Component c;
  c.kind = cordon::mime::ComponentKind::attachment;
  c.name = "attachment:deep.zip";
  c.filename = "deep.zip";
  c.data = corpus_->read("deep.zip");
  c.is_text = false;
  message.components.push_back(c);
  auto x = made->expand(message);
  ASSERT_EQ(x.limits.size(), 1u);
  EXPECT_EQ(x.limits[0].kind, LimitKind::depth);
  EXPECT_EQ(x.limits[0].where, "attachment:deep.zip/d1.zip/d2.zip");
  ASSERT_EQ(message.problems.size(), 1u);
  EXPECT_NE(message.problems[0].detail.find("max_depth"), std::string::npos);
  EXPECT_EQ(message.problems[0].kind, cordon::mime::ProblemKind::extraction_limit);
  ASSERT_EQ(message.components.size(), 3u);
  EXPECT_EQ(message.components[2].name, "attachment:deep.zip/d1.zip/d2.zip");
}

}  // namespace
