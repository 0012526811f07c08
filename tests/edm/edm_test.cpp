// Exact Data Match: normalisation, the index (no plaintext, key and column
// checks), finding the fields of one row in every common format, and the
// near-misses that must not match; then through a loaded configuration.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/config.hpp"
#include "detect/edm.hpp"
#include "policy/evaluate.hpp"
#include "policy/policy_set.hpp"

namespace cordon::detect::edm {
namespace {

namespace fs = std::filesystem;

const std::vector<Column> kColumns = {{"name", ColumnType::text},
                                      {"ssn", ColumnType::digits},
                                      {"card", ColumnType::digits},
                                      {"email", ColumnType::email}};

const char* kCsv =
    "id,Name,SSN,card,email\n"
    "1,John Smith,123-45-6789,4111 1111 1111 1111,John.Smith@Example.com\n"
    "2,\"O'Brien, Mary\",987-65-4321,5500-0000-0000-0004,mary@obrien.test\n"
    "3,Ann Lee,555-12-3456,,ann@lee.test\n";

class EdmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cordon-edm-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "keys");
    fs::create_directories(dir_ / "index");
    write(dir_ / "data.csv", kCsv);
    bool created = false;
    auto k = load_or_create_key(dir_ / "keys/edm.key", &created);
    ASSERT_TRUE(k) << k.error().message;
    EXPECT_TRUE(created);
    key_ = *k;
    auto stats = build_index(dir_ / "data.csv", kColumns, key_, dir_ / "index/c.edm");
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->rows, 3u);
    EXPECT_EQ(stats->cells, 11u);
    EXPECT_EQ(stats->empty_cells, 1u);
    auto opened = Index::open(dir_ / "index/c.edm", key_, kColumns);
    ASSERT_TRUE(opened) << opened.error().message;
    index_ = *opened;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void write(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
  }

  // Rows matched with 2 fields of any column.
  std::vector<RowMatch> rows(std::string_view text, std::size_t min_fields = 2) {
    ScanOptions o;
    auto hits = find_hits(*index_, text, o);
    return match_rows(hits, min_fields, ~std::uint64_t{0}, o.proximity);
  }

  fs::path dir_;
  util::SipKey key_{};
  std::shared_ptr<const Index> index_;
};

TEST(EdmNormalise, EachColumnTypeHasItsCanonicalForm) {
  EXPECT_EQ(normalise(ColumnType::text, "  John   SMITH "), "john smith");
  EXPECT_EQ(normalise(ColumnType::text, "O'Brien, Mary"), "o brien mary");
  EXPECT_EQ(normalise(ColumnType::digits, "123-45-6789"), "123456789");
  EXPECT_EQ(normalise(ColumnType::digits, "+1 (555) 123.4567"), "15551234567");
  EXPECT_EQ(normalise(ColumnType::digits, "12"), "");  // too short to say anything
  EXPECT_EQ(normalise(ColumnType::email, " <John.Smith@Example.COM> "), "john.smith@example.com");
  EXPECT_EQ(infer_type("customer_ssn"), ColumnType::digits);
  EXPECT_EQ(infer_type("E-Mail"), ColumnType::email);
  EXPECT_EQ(infer_type("full name"), ColumnType::text);
}

TEST_F(EdmTest, TwoFieldsOfOneRowAreFoundInEveryCommonFormat) {
  for (std::string_view text : {
           "Customer John Smith, SSN 123-45-6789.",
           "JOHN SMITH 123456789",
           "john   smith\n\tssn: 123 45 6789",
           "card 4111-1111-1111-1111 for john.smith@example.com",
           "4111111111111111 / JOHN.SMITH@EXAMPLE.COM",
           "id,name,ssn\n1,John Smith,123-45-6789\n",  // a CSV attachment's text
           "Name\tSSN\nJohn Smith\t123.45.6789\n",     // an XLSX sheet's text
           "Mary O'Brien? no: O'Brien, Mary 987 65 4321",
       }) {
    auto found = rows(text);
    ASSERT_EQ(found.size(), 1u) << text;
    EXPECT_EQ(found[0].fields.size(), 2u) << text;
  }
  EXPECT_EQ(rows("Customer John Smith, SSN 123-45-6789.")[0].row, 0u);
  EXPECT_EQ(rows("O'Brien, Mary: 5500 0000 0000 0004")[0].row, 1u);
}

TEST_F(EdmTest, FieldsOfTwoRowsASingleFieldAndNearMissesAreNotFindings) {
  EXPECT_TRUE(rows("John Smith, SSN 987-65-4321").empty());  // two rows
  EXPECT_TRUE(rows("SSN 123-45-6789 only").empty());         // one field
  EXPECT_TRUE(rows("John Smith 123-45-6788").empty());       // one digit off
  EXPECT_TRUE(rows("John Smyth 123-45-6789").empty());       // one letter off
  EXPECT_TRUE(rows("john.smith@example.com 4111 1111 1111 1112").empty());
  EXPECT_TRUE(rows("John 123-45-6789").empty());       // part of a multi-word cell
  EXPECT_TRUE(rows("x123456789 John Smith").empty());  // digits glued to letters
  // One field written twice is still one field.
  EXPECT_TRUE(rows("123-45-6789 and again 123456789").empty());
  // An e-mail address is not also the name its words spell.
  EXPECT_TRUE(rows("write to john.smith@example.com").empty());
}

TEST_F(EdmTest, FieldsFarApartAreNotNearEachOther) {
  std::string text = "John Smith" + std::string(400, ' ') + "123-45-6789";
  EXPECT_TRUE(rows(text).empty());
  ScanOptions o;
  o.proximity = 1000;
  EXPECT_EQ(match_rows(find_hits(*index_, text, o), 2, ~0ull, 1000).size(), 1u);
}

TEST_F(EdmTest, TheIndexKnowsWhichWordCountsItsTextCellsHave) {
  // "John Smith", "o brien mary", "Ann Lee": two and three words.
  EXPECT_EQ(index_->max_words(), 3u);
  EXPECT_FALSE(index_->has_word_count(1));
  EXPECT_TRUE(index_->has_word_count(2));
  EXPECT_TRUE(index_->has_word_count(3));
  EXPECT_FALSE(index_->has_word_count(4));
  // Single-word and four-word cells are looked up when a table has them.
  write(dir_ / "words.csv", "name,ssn\nCher,123-45-6789\nJuan Carlos de Borbon,987-65-4321\n");
  auto built = build_index(dir_ / "words.csv", std::vector<Column>{kColumns[0], kColumns[1]}, key_,
                           dir_ / "index/w.edm");
  ASSERT_TRUE(built) << built.error().message;
  auto words = Index::open(dir_ / "index/w.edm", key_);
  ASSERT_TRUE(words) << words.error().message;
  EXPECT_TRUE((*words)->has_word_count(1));
  EXPECT_FALSE((*words)->has_word_count(2));
  EXPECT_TRUE((*words)->has_word_count(4));
  for (std::string_view text : {"cher 123-45-6789", "Juan Carlos de Borbon, 987 65 4321"}) {
    ScanOptions o;
    auto hits = find_hits(**words, text, o);
    EXPECT_EQ(match_rows(hits, 2, ~0ull, o.proximity).size(), 1u) << text;
  }
}

TEST_F(EdmTest, WordsAreLookedUpOnlyNearAnAnchorWhenAllWordsIsOff) {
  ScanOptions o;
  o.all_words = false;
  auto near = find_hits(*index_, "John Smith 123-45-6789", o);
  EXPECT_EQ(match_rows(near, 2, ~0ull, o.proximity).size(), 1u);
  auto far = find_hits(*index_, "John Smith" + std::string(400, '.') + "123-45-6789", o);
  EXPECT_EQ(far.size(), 1u);  // the SSN alone
}

TEST_F(EdmTest, ColumnsOfTheConditionLimitWhatCounts) {
  ScanOptions o;
  auto hits = find_hits(*index_, "John Smith 123-45-6789", o);
  EXPECT_TRUE(match_rows(hits, 2, 0b1100, o.proximity).empty());  // card, email only
  EXPECT_EQ(match_rows(hits, 2, 0b0011, o.proximity).size(), 1u);
}

TEST_F(EdmTest, TheIndexHoldsNoPlaintextValue) {
  std::ifstream in(dir_ / "index/c.edm", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  for (std::string_view v : {"John",
                             "john",
                             "Smith",
                             "smith",
                             "123-45-6789",
                             "123456789",
                             "4111111111111111",
                             "4111",
                             "john.smith@example.com",
                             "Example",
                             "O'Brien",
                             "brien",
                             "Mary",
                             "mary",
                             "987654321",
                             "5500000000000004",
                             "obrien",
                             "Ann Lee",
                             "lee.test",
                             "555123456"})
    EXPECT_EQ(bytes.find(v), std::string::npos) << v;
  auto st = fs::status(dir_ / "keys/edm.key");
  EXPECT_EQ(st.permissions() & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
}

TEST_F(EdmTest, AnotherKeyOrOtherColumnsAreRefused) {
  util::SipKey other = key_;
  other[0] ^= 1;
  auto wrong_key = Index::open(dir_ / "index/c.edm", other, kColumns);
  ASSERT_FALSE(wrong_key);
  EXPECT_EQ(wrong_key.error().code, ErrorCode::key_mismatch);
  EXPECT_NE(wrong_key.error().message.find("another EDM key (edm.key_file)"), std::string::npos)
      << wrong_key.error().message;
  std::vector<Column> fewer(kColumns.begin(), kColumns.begin() + 3);
  auto wrong_columns = Index::open(dir_ / "index/c.edm", key_, fewer);
  ASSERT_FALSE(wrong_columns);
  EXPECT_EQ(wrong_columns.error().code, ErrorCode::columns_mismatch);
  auto missing = build_index(dir_ / "data.csv", {{Column{"phone", ColumnType::digits}}}, key_,
                             dir_ / "index/p.edm");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no column 'phone'"), std::string::npos);
}

TEST_F(EdmTest, AKeyFileThatIsNotAKeyIsRefusedNamingEdm) {
  write(dir_ / "keys/bad.key", "0123456789abcdef\n");  // 16 digits, not 32
  auto short_key = load_key(dir_ / "keys/bad.key");
  ASSERT_FALSE(short_key);
  EXPECT_EQ(short_key.error().code, ErrorCode::bad_key);
  EXPECT_NE(short_key.error().message.find("the EDM key " + (dir_ / "keys/bad.key").string() +
                                           " is not 32 hexadecimal digits"),
            std::string::npos)
      << short_key.error().message;
  write(dir_ / "keys/bad.key", std::string(31, 'a') + "g\n");
  auto not_hex = load_key(dir_ / "keys/bad.key");
  ASSERT_FALSE(not_hex);
  EXPECT_EQ(not_hex.error().code, ErrorCode::bad_key);
  auto absent = load_key(dir_ / "keys/none.key");
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code, ErrorCode::io);
  EXPECT_NE(absent.error().message.find("cannot read the EDM key"), std::string::npos)
      << absent.error().message;
  // The key made in SetUp loads again, the same; a second create keeps it.
  bool created = true;
  auto again = load_or_create_key(dir_ / "keys/edm.key", &created);
  ASSERT_TRUE(again);
  EXPECT_FALSE(created);
  EXPECT_EQ(*again, key_);
}

TEST_F(EdmTest, ACommonValueCountsOnlyBesideARareFieldOfItsRow) {
  std::string csv = "name,ssn,email\n";
  for (int i = 0; i < 30; ++i)
    csv += "John Smith,100-00-" + std::to_string(1000 + i) + ",js" + std::to_string(i) +
           "@corp.test\n";
  write(dir_ / "common.csv", csv);
  std::vector<Column> cols = {
      {"name", ColumnType::text}, {"ssn", ColumnType::digits}, {"email", ColumnType::email}};
  ASSERT_TRUE(build_index(dir_ / "common.csv", cols, key_, dir_ / "index/common.edm"));
  auto index = Index::open(dir_ / "index/common.edm", key_, cols);
  ASSERT_TRUE(index);
  ScanOptions o;
  o.common_rows = 20;
  auto match = [&](std::string_view text) {
    return match_rows(find_hits(**index, text, o), 2, ~0ull, o.proximity);
  };
  auto found = match("John Smith, 100-00-1007");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].row, 7u);
  EXPECT_TRUE(match("John Smith, John Smith").empty());
  EXPECT_TRUE(match("John Smith, js7@corp.test 100-00-1008").empty() == false);  // row 7 and 8
  EXPECT_EQ(match("js7@corp.test 100-00-1008").size(), 0u);
}

TEST_F(EdmTest, ARebuiltIndexReplacesTheOldOneAtomically) {
  write(dir_ / "data2.csv", "name,ssn,card,email\nZed Zulu,222-33-4444,,z@z.test\n");
  ASSERT_TRUE(build_index(dir_ / "data2.csv", kColumns, key_, dir_ / "index/c.edm"));
  // The open index still reads the old file; a new open reads the new one.
  EXPECT_EQ(rows("John Smith 123-45-6789").size(), 1u);
  auto fresh = Index::open(dir_ / "index/c.edm", key_, kColumns);
  ASSERT_TRUE(fresh);
  ScanOptions o;
  EXPECT_TRUE(match_rows(find_hits(**fresh, "John Smith 123-45-6789", o), 2, ~0ull, 300).empty());
  EXPECT_EQ(match_rows(find_hits(**fresh, "zed zulu 222334444", o), 2, ~0ull, 300).size(), 1u);
}

// Through the configuration: check-config's load validates key, index and
// profile; a policy fires with the fields masked.
TEST_F(EdmTest, APolicyFiresWithTheFieldsMaskedAndBadReferencesAreErrors) {
  auto yaml = [&](std::string item, std::string index = "index/c.edm") {
    return "edm:\n  key_file: " + (dir_ / "keys/edm.key").string() +
           "\n  profiles:\n    - {name: customers, index: " + (dir_ / index).string() +
           ", columns: [name, ssn, card, email]}\npolicies:\n  - name: Customers\n    match:\n"
           "      any:\n        - " +
           item + "\n    respond:\n      - block: \"customer data\"\n";
  };
  auto loaded =
      config::load_config_text(yaml("edm: {profile: customers, min_fields: 2}"), "t.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  policy::Evaluator evaluator((*loaded)->policy_set);
  mime::Message message;
  mime::Component body;
  body.kind = mime::ComponentKind::body;
  body.name = "body";
  body.text = "Hi, John Smith here; SSN 123-45-6789.";
  message.components.push_back(body);
  auto verdict = evaluator.evaluate(message, {"a@corp.test", {"b@ext.test"}});
  ASSERT_TRUE(verdict);
  ASSERT_EQ(verdict->policies.size(), 1u);
  const auto& m = verdict->policies[0].matches.at(0);
  EXPECT_EQ(m.rule, "edm:customers");
  ASSERT_EQ(m.samples.size(), 1u);
  EXPECT_EQ(m.samples[0].find("123-45-6789"), std::string::npos);
  EXPECT_EQ(m.samples[0].find("John Smith"), std::string::npos);
  EXPECT_NE(m.samples[0].find("name "), std::string::npos);
  EXPECT_NE(m.samples[0].find("ssn "), std::string::npos);

  auto unknown = config::load_config_text(yaml("edm: {profile: clients}"), "t.yaml");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown EDM profile 'clients'"), std::string::npos);
  auto column =
      config::load_config_text(yaml("edm: {profile: customers, columns: [dob]}"), "t.yaml");
  ASSERT_FALSE(column);
  EXPECT_NE(column.error().message.find("no column 'dob'"), std::string::npos);
  auto missing =
      config::load_config_text(yaml("edm: {profile: customers}", "index/none.edm"), "t.yaml");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cannot open the EDM index"), std::string::npos);
  auto beside = config::load_config_text(yaml("edm: {profile: customers}", "keys/c.edm"), "t.yaml");
  ASSERT_FALSE(beside);
  EXPECT_NE(beside.error().message.find("keep the key apart"), std::string::npos);
}

}  // namespace
}  // namespace cordon::detect::edm
