// Extraction of every supported format from a corpus generated at test
// time by real tools: true types, text in reading order, component paths
// of archive members, and encryption reported instead of passed as clean.
#include <gtest/gtest.h>
#include <magic.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "extract/corpus.hpp"
#include "extract/extract.hpp"

using cordon::extract::Extraction;
using cordon::extract::Extractor;
using cordon::extract::Item;
using cordon::testing::AttachmentCorpus;

namespace {

class ExtractFormats : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { corpus_ = std::make_unique<AttachmentCorpus>(false); }
  static void TearDownTestSuite() { corpus_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(corpus_->ok()) << corpus_->error();
    auto made = Extractor::create();
    ASSERT_TRUE(made) << made.error().detail;
    extractor_ = std::make_unique<Extractor>(std::move(*made));
  }

  Extraction extract(const std::string& name) {
    return extractor_->extract(name, corpus_->read(name));
  }

  static const Item* find(const Extraction& e, const std::string& path) {
    auto it =
        std::find_if(e.items.begin(), e.items.end(), [&](const Item& i) { return i.path == path; });
    return it == e.items.end() ? nullptr : &*it;
  }

  static std::vector<std::string> paths(const Extraction& e) {
    std::vector<std::string> out;
    for (const auto& i : e.items) out.push_back(i.path);
    return out;
  }

  static std::unique_ptr<AttachmentCorpus> corpus_;
  std::unique_ptr<Extractor> extractor_;
};

std::unique_ptr<AttachmentCorpus> ExtractFormats::corpus_;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(ExtractFormats, DetectsTrueTypesFromContentNotNames) {
  EXPECT_EQ(extractor_->detect_type(corpus_->read("customers.xlsx")),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  EXPECT_EQ(extractor_->detect_type(corpus_->read("memo.docx")),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  EXPECT_EQ(extractor_->detect_type(corpus_->read("deck.pptx")),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation");
  EXPECT_EQ(extractor_->detect_type(corpus_->read("notes.odt")),
            "application/vnd.oasis.opendocument.text");
  EXPECT_EQ(extractor_->detect_type(corpus_->read("report.zip")), "application/zip");
  EXPECT_EQ(extractor_->detect_type(corpus_->read("statement.pdf")), "application/pdf");
  EXPECT_EQ(extractor_->detect_type(corpus_->read("bundle.tar.gz")), "application/gzip");
  EXPECT_EQ(extractor_->detect_type(corpus_->read("plain.tar")), "application/x-tar");
  EXPECT_EQ(extractor_->detect_type(corpus_->read("secret.docx")), "application/encrypted");
  EXPECT_EQ(extractor_->detect_type(""), "application/x-empty");
}

// Signatures and prose are typed without libmagic's soft-magic tests; the
// answer must be the one libmagic gives with every test.
TEST_F(ExtractFormats, TypesFoundWithoutSoftMagicTestsAreLibmagicsOwn) {
  std::unique_ptr<magic_set, decltype(&magic_close)> magic(
      magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR), &magic_close);
  ASSERT_TRUE(magic);
  ASSERT_EQ(magic_load(magic.get(), nullptr), 0);
  using namespace std::string_literals;
  const std::string prose =
      "Dear team, please find the quarterly figures below.\n"
      "Revenue grew in every region, and costs stayed flat.\n\n"
      "Regards, Ann\n";
  const std::vector<std::string> samples = {
      corpus_->read("statement.pdf"),
      corpus_->read("locked.pdf"),
      corpus_->read("letter.rtf"),
      corpus_->read("statement.pdf.gz"),
      corpus_->read("bundle.tar.gz"),
      prose,
      "Gr\xC3\xBC\xC3\x9F" "e aus M\xC3\xBCnchen, bis bald.\nAnn\n",
      "id,name,card\n1,Ann,4111\n2,Bob,5500\n3,Eve,3400\n",
      "{\"customer\": \"Ann\", \"card\": 4111}\n",
      "#include <stdio.h>\nint main(void) { return 0; }\n",
      "#!/bin/sh\necho hello\n",
      "import os\nprint(os.name)\n",
      "package main\n\nfunc main() {}\n",
      "<html><body><p>hello</p></body></html>\n",
      "Quarterly figures <b>attached</b>.\n",
      "From: a@example.com\nTo: b@example.com\nSubject: hi\n\nhello\n",
      "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBF0AAAAB\n-----END PGP PUBLIC KEY BLOCK-----\n",
      "%!PS-Adobe-3.0\n%%Title: x\nshowpage\n",
      "\\documentclass{article}\n\\begin{document}hi\\end{document}\n",
      ".TH CORDON 1\n.SH NAME\ncordon\n",
      "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0\x90\x91\x68\x36"s,
      "GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\x01\0\0\0\0,"s,
      "\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0"s,
  };
  for (const std::string& sample : samples) {
    const char* full = magic_buffer(magic.get(), sample.data(), sample.size());
    ASSERT_NE(full, nullptr);
    std::string expected(full);
    std::transform(expected.begin(), expected.end(), expected.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    EXPECT_EQ(extractor_->detect_type(sample), expected) << sample.substr(0, 40);
  }
}

TEST_F(ExtractFormats, XlsxYieldsSharedInlineAndNumericCellsOfEverySheetRowByRow) {
  auto e = extract("customers.xlsx");
  ASSERT_EQ(e.items.size(), 1u);
  const std::string& text = e.items[0].text;
  EXPECT_TRUE(contains(text, "Name\tCard\tBalance\n")) << text;
  EXPECT_TRUE(contains(text, "Jane Roe\t4111111111111111\t1200\n")) << text;
  EXPECT_TRUE(contains(text, "Total\t\t98765")) << text;
  EXPECT_TRUE(contains(text, "Note\tcard 5555555555554444")) << text;
  EXPECT_LT(text.find("4111111111111111"), text.find("5555555555554444"));
  EXPECT_FALSE(e.items[0].container);
}

TEST_F(ExtractFormats, DocxYieldsParagraphsThenHeaders) {
  auto e = extract("memo.docx");
  ASSERT_EQ(e.items.size(), 1u);
  EXPECT_EQ(e.items[0].text, "Quarterly memo\nCard on file: 4012888888881881\nInternal use\n");
}

TEST_F(ExtractFormats, PptxSlidesComeInNumericOrder) {
  auto e = extract("deck.pptx");
  const std::string& text = e.items.at(0).text;
  auto one = text.find("Slide one"), amex = text.find("Amex 378282246310005"),
       three = text.find("Slide 3"), ten = text.find("Slide 10");
  ASSERT_NE(ten, std::string::npos) << text;
  EXPECT_LT(one, amex);
  EXPECT_LT(amex, three);
  EXPECT_LT(three, ten);
}

TEST_F(ExtractFormats, OpenDocumentTextSpreadsheetAndPresentation) {
  EXPECT_EQ(extract("notes.odt").items.at(0).text, "Notes\ncard 6011111111111117\n");
  auto ods = extract("sheet.ods");
  EXPECT_EQ(ods.items.at(0).type, "application/vnd.oasis.opendocument.spreadsheet");
  EXPECT_TRUE(contains(ods.items.at(0).text, "Max\n\t5105105105105100\n\t"))
      << ods.items.at(0).text;
  EXPECT_TRUE(contains(extract("talk.odp").items.at(0).text, "Title slide\nClosing remarks"));
}

TEST_F(ExtractFormats, PdfPageTextAndLockedPdfReportedEncrypted) {
  auto e = extract("statement.pdf");
  EXPECT_TRUE(contains(e.items.at(0).text, "Card 4222222222222")) << e.items.at(0).text;
  EXPECT_FALSE(e.items.at(0).encrypted);
  auto locked = extract("locked.pdf");
  EXPECT_EQ(locked.items.at(0).type, "application/pdf");
  EXPECT_TRUE(locked.items.at(0).encrypted);
  EXPECT_TRUE(locked.items.at(0).text.empty());
}

TEST_F(ExtractFormats, RtfDecodesEscapesAndSkipsHiddenDestinations) {
  auto e = extract("letter.rtf");
  EXPECT_EQ(e.items.at(0).text,
            "Dear customer,\nyour card 3530\u00a0111333300000 is \u20ac ready.\nSSN 219-09-9999");
}

TEST_F(ExtractFormats, Utf16CsvAndLatin1HtmlBecomeUtf8) {
  EXPECT_EQ(extract("export.csv").items.at(0).text,
            "name;card;city\nJürgen;6011000990139424;Köln\n");
  auto html = extract("page.html").items.at(0).text;
  EXPECT_TRUE(contains(html, "Café")) << html;
  EXPECT_TRUE(contains(html, "219-09-9999")) << html;
}

TEST_F(ExtractFormats, EncryptedOfficeDocumentIsReportedNotPassedAsClean) {
  auto e = extract("secret.docx");
  ASSERT_EQ(e.items.size(), 1u);
  EXPECT_TRUE(e.items[0].encrypted);
  EXPECT_EQ(e.items[0].type, "application/encrypted");
}

TEST_F(ExtractFormats, ZipMembersArePathsInsideTheArchive) {
  auto e = extract("report.zip");
  EXPECT_EQ(paths(e), (std::vector<std::string>{"", "q3/customers.xlsx", "q3/readme.txt"}));
  EXPECT_TRUE(e.items[0].container);
  EXPECT_EQ(e.items[0].type, "application/zip");
  const Item* xlsx = find(e, "q3/customers.xlsx");
  ASSERT_NE(xlsx, nullptr);
  EXPECT_EQ(xlsx->name, "customers.xlsx");
  EXPECT_EQ(xlsx->type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  EXPECT_EQ(xlsx->size, corpus_->read("customers.xlsx").size());
  EXPECT_TRUE(contains(xlsx->text, "4111111111111111"));
  EXPECT_EQ(find(e, "q3/readme.txt")->text, "nothing here\n");
  EXPECT_TRUE(e.limits.empty());
}

TEST_F(ExtractFormats, TarWithEveryCompressionFilter) {
  auto gz = extract("bundle.tar.gz");
  EXPECT_EQ(paths(gz), (std::vector<std::string>{"", "docs/memo.docx", "docs/export.csv"}));
  EXPECT_TRUE(contains(find(gz, "docs/memo.docx")->text, "4012888888881881"));
  EXPECT_TRUE(contains(find(gz, "docs/export.csv")->text, "Jürgen"));
  auto bz = extract("archive.tar.bz2");
  ASSERT_NE(find(bz, "notes.odt"), nullptr);
  EXPECT_TRUE(contains(find(bz, "notes.odt")->text, "6011111111111117"));
  auto xz = extract("archive.tar.xz");
  ASSERT_NE(find(xz, "letter.rtf"), nullptr);
  EXPECT_TRUE(contains(find(xz, "letter.rtf")->text, "SSN 219-09-9999"));
  auto tar = extract("plain.tar");
  ASSERT_NE(find(tar, "sheet.ods"), nullptr);
  EXPECT_TRUE(contains(find(tar, "sheet.ods")->text, "5105105105105100"));
}

TEST_F(ExtractFormats, LoneCompressedStreamsAreNamedAfterWhatTheyHold) {
  auto pdf = extract("statement.pdf.gz");
  EXPECT_EQ(paths(pdf), (std::vector<std::string>{"", "statement.pdf"}));
  EXPECT_EQ(pdf.items[1].type, "application/pdf");
  EXPECT_TRUE(contains(pdf.items[1].text, "4222222222222"));
  auto csv = extract("export.csv.bz2");
  EXPECT_EQ(paths(csv), (std::vector<std::string>{"", "export.csv"}));
  EXPECT_TRUE(contains(csv.items[1].text, "6011000990139424"));
  auto rtf = extract("letter.rtf.xz");
  EXPECT_EQ(paths(rtf), (std::vector<std::string>{"", "letter.rtf"}));
}

TEST_F(ExtractFormats, NestedArchivesOfMixedFormatsKeepTheWholePath) {
  auto e = extract("nested.zip");
  EXPECT_EQ(paths(e),
            (std::vector<std::string>{"", "inner/level2.zip", "inner/level2.zip/level3.tar.gz",
                                      "inner/level2.zip/level3.tar.gz/deep/card.txt"}));
  EXPECT_EQ(e.items.back().text, "card 4916338506082832\n");
}

TEST_F(ExtractFormats, PasswordProtectedZipIsFlaggedWithItsMembers) {
  if (!corpus_->has("encrypted.zip")) GTEST_SKIP() << "Info-ZIP zip is not installed";
  auto e = extract("encrypted.zip");
  ASSERT_EQ(e.items.size(), 2u);
  EXPECT_TRUE(e.items[0].encrypted);
  EXPECT_EQ(e.items[1].path, "payroll.xlsx");
  EXPECT_TRUE(e.items[1].encrypted);
  EXPECT_TRUE(e.items[1].text.empty());
}

TEST_F(ExtractFormats, DamagedArchiveIsReportedNotFatal) {
  std::string zip = corpus_->read("report.zip");
  auto e = extractor_->extract("cut.zip", zip.substr(0, zip.size() / 2));
  ASSERT_FALSE(e.items.empty());
  EXPECT_FALSE(e.problems.empty());
}

}  // namespace
