// `cordon scan --format json` on messages whose sensitive data sits inside
// attachments: exact components of archive members (down to a cell of an
// xlsx inside a zip inside a forwarded message), attachment conditions
// (encrypted, executable, spreadsheet), and bombs contained in bounded time
// and memory with a limit finding.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "extract/corpus.hpp"

using cordon::testing::AttachmentCorpus;
using cordon::testing::cordon_bin;
using cordon::testing::run_command;
using nlohmann::json;

namespace {

constexpr const char* kPolicies = R"(policies:
  - name: Payment card numbers
    severity: high
    match: {any: [{identifier: credit_card}]}
    respond: [{block: "card"}]
  - name: Password-protected files
    match:
      any:
        - attachment: {encrypted: true}
    respond: [{block: "encrypted"}]
  - name: Executables
    match:
      any:
        - attachment: {types: ["application/x-dosexec", "application/x-executable"]}
    respond: [{block: "exe"}]
  - name: Spreadsheets
    severity: low
    match:
      any:
        - attachment: {types: ["application/vnd.openxmlformats-officedocument.spreadsheetml.*"]}
)";

class ScanAttachments : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    corpus_ = std::make_unique<AttachmentCorpus>(true);
    std::ofstream(corpus_->path("policies.yaml")) << kPolicies;
    std::ofstream(corpus_->path("note.yaml"))
        << kPolicies << "attachments: {on_limit: note, max_file_bytes: 16MB}\n";
  }
  static void TearDownTestSuite() { corpus_.reset(); }
  void SetUp() override { ASSERT_TRUE(corpus_->ok()) << corpus_->error(); }

  static json scan(const std::string& eml, const std::string& config = "policies.yaml",
                   int* exit_code = nullptr, const std::string& prefix = "") {
    auto r = run_command(prefix + "'" + cordon_bin() + "' scan --format json --config '" +
                         corpus_->path(config) + "' '" + corpus_->path(eml) + "'");
    if (exit_code) *exit_code = r.exit_code;
    auto doc = json::parse(r.output, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << r.output;
    return doc;
  }

  static const json* policy(const json& v, const std::string& name) {
    for (const auto& p : v["policies"])
      if (p["name"] == name) return &p;
    return nullptr;
  }

  static std::unique_ptr<AttachmentCorpus> corpus_;
};

std::unique_ptr<AttachmentCorpus> ScanAttachments::corpus_;

TEST_F(ScanAttachments, CardInXlsxCellInsideZipInsideForwardedMessageIsFoundWithItsExactPath) {
  int code = 0;
  json v = scan("forwarded-zip-xlsx.eml", "policies.yaml", &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(v["verdict"], "block");
  const json* cards = policy(v, "Payment card numbers");
  ASSERT_NE(cards, nullptr) << v.dump();
  ASSERT_EQ((*cards)["matches"].size(), 1u);
  const json& m = (*cards)["matches"][0];
  EXPECT_EQ(m["component"], "attachment:fwd.eml/report.zip/q3/customers.xlsx");
  EXPECT_EQ(m["rule"], "identifier:credit_card");
  EXPECT_EQ(m["count"], 2);
  EXPECT_EQ(m["samples"], json({"4111********1111", "5555********4444"}));
  const json* sheets = policy(v, "Spreadsheets");
  ASSERT_NE(sheets, nullptr);
  EXPECT_EQ((*sheets)["matches"][0]["component"],
            "attachment:fwd.eml/report.zip/q3/customers.xlsx");
  // The full number never reaches the output.
  EXPECT_EQ(v.dump().find("4111111111111111"), std::string::npos);
}

TEST_F(ScanAttachments, DocumentAttachmentsAreScannedAsTheirText) {
  json v = scan("docs.eml");
  const json* cards = policy(v, "Payment card numbers");
  ASSERT_NE(cards, nullptr) << v.dump();
  ASSERT_EQ((*cards)["matches"].size(), 1u);
  EXPECT_EQ((*cards)["matches"][0]["component"], "attachment:memo.docx");
  EXPECT_EQ((*cards)["matches"][0]["samples"], json({"4012********1881"}));
}

TEST_F(ScanAttachments, PasswordProtectedFilesFireTheEncryptedCondition) {
  json pdf = scan("pdf-locked.eml");
  const json* locked = policy(pdf, "Password-protected files");
  ASSERT_NE(locked, nullptr) << pdf.dump();
  EXPECT_EQ((*locked)["matches"][0]["component"], "attachment:locked.pdf");
  EXPECT_EQ((*locked)["matches"][0]["rule"], "attachment:encrypted");
  EXPECT_EQ(pdf["verdict"], "block");

  if (!corpus_->has("encrypted-zip.eml")) GTEST_SKIP() << "Info-ZIP zip is not installed";
  json zip = scan("encrypted-zip.eml");
  const json* enc = policy(zip, "Password-protected files");
  ASSERT_NE(enc, nullptr) << zip.dump();
  std::vector<std::string> components;
  for (const auto& m : (*enc)["matches"]) components.push_back(m["component"]);
  EXPECT_EQ(components, (std::vector<std::string>{"attachment:payroll.zip",
                                                  "attachment:payroll.zip/payroll.xlsx"}));
}

// poppler and the libraries it brings are loaded only when a PDF is read
// (the start-up of every cordon process otherwise paid for them), and the
// PDF is still read then.
TEST_F(ScanAttachments, PdfReaderIsLoadedOnlyWhenAPdfIsRead) {
  auto loaded = [](const std::string& eml) {
    auto r = run_command("LD_DEBUG=files '" + cordon_bin() + "' scan --format json --config '" +
                         corpus_->path("policies.yaml") + "' '" + corpus_->path(eml) +
                         "' 2>&1 >/dev/null");
    return r.output.find("libpoppler") != std::string::npos;
  };
  EXPECT_FALSE(loaded("clean.eml"));
  EXPECT_TRUE(loaded("pdf-locked.eml"));
}

TEST_F(ScanAttachments, ExecutableIsRecognisedByContentWhateverItsNameAndDeclaredType) {
  json v = scan("program.eml");
  const json* exe = policy(v, "Executables");
  ASSERT_NE(exe, nullptr) << v.dump();
  EXPECT_EQ((*exe)["matches"][0]["component"], "attachment:setup.txt");
  EXPECT_EQ(policy(v, "Spreadsheets"), nullptr);
}

TEST_F(ScanAttachments, CleanAttachmentPasses) {
  int code = -1;
  json v = scan("clean.eml", "policies.yaml", &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(v["verdict"], "pass");
  EXPECT_TRUE(v["policies"].empty());
}

TEST_F(ScanAttachments, BombIsALimitViolationInBoundedTimeAndMemory) {
  auto start = std::chrono::steady_clock::now();
  int code = 0;
  // 1.5 GB of address space: the 1 GiB member must never be held whole.
  json v = scan("bomb.eml", "policies.yaml", &code, "ulimit -v 1500000; ");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(code, 1);
  EXPECT_EQ(v["verdict"], "block");
  const json* limit = policy(v, "Attachment inspection limits");
  ASSERT_NE(limit, nullptr) << v.dump();
  EXPECT_EQ((*limit)["matches"][0]["component"], "limit");
  EXPECT_EQ((*limit)["matches"][0]["rule"], "limit:max_file_bytes");
}

TEST_F(ScanAttachments, NestedBombIsContained) {
  int code = 0;
  json v = scan("bomb42.eml", "policies.yaml", &code, "ulimit -v 1500000; ");
  EXPECT_EQ(code, 1);
  ASSERT_NE(policy(v, "Attachment inspection limits"), nullptr) << v.dump();
}

TEST_F(ScanAttachments, OnLimitNotePassesWithTheLimitInProblems) {
  int code = -1;
  json v = scan("bomb.eml", "note.yaml", &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(v["verdict"], "pass");
  ASSERT_TRUE(v.contains("problems")) << v.dump();
  std::string problems = v["problems"].dump();
  EXPECT_NE(problems.find("limit max_file_bytes reached in attachment:zeros.zip/zeros.bin"),
            std::string::npos)
      << problems;
}

}  // namespace
