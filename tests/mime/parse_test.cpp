// mime::parse on well-formed messages: components, names, decoding.
#include "mime/mime.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace cordon::mime {
namespace {

Message parse_ok(std::string_view raw, const Limits& limits = {}) {
  auto r = parse(raw, limits);
  EXPECT_TRUE(r.has_value());
  return r.has_value() ? std::move(r).value() : Message{};
}

const Component* find(const Message& m, std::string_view name) {
  auto it = std::find_if(m.components.begin(), m.components.end(),
                         [&](const Component& c) { return c.name == name; });
  return it == m.components.end() ? nullptr : &*it;
}

std::vector<std::string> names(const Message& m) {
  std::vector<std::string> out;
  for (const auto& c : m.components) out.push_back(c.name);
  return out;
}

std::vector<std::string> bodies(const Message& m) {
  std::vector<std::string> out;
  for (const auto& c : m.components) {
    if (c.kind == ComponentKind::body) out.push_back(c.text);
  }
  return out;
}

TEST(MimeParse, EmptyInputIsAnError) {
  auto r = parse("");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ParseErrorCode::empty_input);
}

TEST(MimeParse, PlainMessageGivesSubjectHeaderAndBody) {
  auto m = parse_ok(
      "From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: Quarterly\r\n"
      "Message-ID: <abc@example.com>\r\n\r\nHello Bob,\r\nsee you.\r\n");
  EXPECT_EQ(m.subject, "Quarterly");
  EXPECT_EQ(m.message_id, "abc@example.com");
  EXPECT_EQ(m.from, "Ann <ann@example.com>");
  ASSERT_EQ(m.headers.size(), 4u);
  EXPECT_EQ(m.headers[1].name, "To");
  EXPECT_EQ(names(m), (std::vector<std::string>{"subject", "header", "body"}));
  EXPECT_EQ(find(m, "subject")->kind, ComponentKind::subject);
  EXPECT_NE(find(m, "header")->text.find("To: bob@example.com\n"), std::string::npos);
  EXPECT_EQ(find(m, "body")->text, "Hello Bob,\r\nsee you.\r\n");
  EXPECT_TRUE(m.problems.empty());
}

TEST(MimeParse, FoldedHeadersAreUnfolded) {
  auto m = parse_ok("Subject: a very\r\n long subject\r\nX-Note: one\n\ttwo\n\nbody\n");
  EXPECT_EQ(m.subject, "a very long subject");
  EXPECT_EQ(m.headers[1].value, "one\ttwo");
}

TEST(MimeParse, Rfc2047SubjectsBase64AndQuotedPrintable) {
  auto b = parse_ok("Subject: =?UTF-8?B?S3JlZGl0a2FydGU6IEvDtmxu?=\n\nx\n");
  EXPECT_EQ(b.subject, "Kreditkarte: K\xC3\xB6ln");
  auto q = parse_ok("Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?= =?UTF-8?Q?_=E2=82=AC?=\n\nx\n");
  EXPECT_EQ(q.subject, "Caf\xC3\xA9 cr\xC3\xA8me \xE2\x82\xAC");
  EXPECT_EQ(find(q, "subject")->text, q.subject);
}

TEST(MimeParse, RawEightBitHeaderIsReadAsUtf8OrWindows1252) {
  auto m = parse_ok("Subject: r\xE9sum\xE9\n\nx\n");
  EXPECT_EQ(m.subject, "r\xC3\xA9sum\xC3\xA9");
}

TEST(MimeParse, MultipartAlternativeGivesBothBodies) {
  auto m = parse_ok(
      "Subject: alt\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"XX\"\n\n"
      "preamble\n--XX\nContent-Type: text/plain; charset=utf-8\n\nplain 4111\n"
      "--XX\nContent-Type: text/html\n\n<p>html&nbsp;<b>4111</b></p>\n--XX--\nepilogue\n");
  EXPECT_EQ(bodies(m), (std::vector<std::string>{"plain 4111", "html 4111"}));
  EXPECT_TRUE(m.problems.empty()) << m.problems.front().detail;
}

TEST(MimeParse, Base64AndQuotedPrintableBodiesAreDecoded) {
  auto m = parse_ok(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\n"
      "Q2FyZCA0MTExIDExMTEgMTExMSAxMTEx\n--b\nContent-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: quoted-printable\n\nK=C3=B6ln =\nist sch=C3=B6n\n--b--\n");
  EXPECT_EQ(bodies(m),
            (std::vector<std::string>{"Card 4111 1111 1111 1111", "K\xC3\xB6ln ist sch\xC3\xB6n"}));
}

TEST(MimeParse, CharsetBodiesAreConvertedToUtf8) {
  auto m = parse_ok(
      "Content-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
      "Stra\xDF"
      "e\n"
      "--b\nContent-Type: text/plain; charset=windows-1252\n\n\x93Hi\x94\n"
      "--b\nContent-Type: text/plain; charset=utf-16le\nContent-Transfer-Encoding: base64\n\n"
      "RwByAPwA3wBlACAAYQB1AHMAIABLAPYAbABuAA==\n"
      "--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
      "RwByAPwA3wBlACAAYQB1AHMAIABLAPYAbABuAA==\n"
      "--b\nContent-Type: text/plain; charset=\"Shift_JIS\"\n\n"
      "\x93\xFA\x96\x7B\x8C\xEA\n"
      "--b\nContent-Type: text/plain; charset=GB2312\n\n\xBB\xFA\xC3\xDC\xCE\xC4\xBC\xFE\n"
      "--b--\n");
  EXPECT_EQ(bodies(m), (std::vector<std::string>{"Stra\xC3\x9F"
                                                 "e",
                                                 "\xE2\x80\x9CHi\xE2\x80\x9D",
                                                 "Gr\xC3\xBC\xC3\x9F"
                                                 "e aus K\xC3\xB6ln",
                                                 "Gr\xC3\xBC\xC3\x9F"
                                                 "e aus K\xC3\xB6ln",
                                                 "日本語", "机密文件"}));
}

TEST(MimeParse, AttachmentsKeepDataTypeSizeAndText) {
  auto m = parse_ok(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nbody text\n"
      "--b\nContent-Type: application/pdf; name=report.pdf\n"
      "Content-Disposition: attachment; filename=\"Q3 report.pdf\"\n"
      "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQKJcOkw7w=\n"
      "--b\nContent-Type: text/csv; charset=iso-8859-1\nContent-Disposition: attachment; "
      "filename=customers.csv\n\nname;card\nJos\xE9;4111111111111111\n"
      "--b\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n"
      "--b\nContent-Type: application/json\n\n{\"ssn\": \"078-05-1120\"}\n--b--\n");
  EXPECT_EQ(names(m), (std::vector<std::string>{"header", "body", "attachment:Q3 report.pdf",
                                                "attachment:customers.csv", "attachment:part-4.png",
                                                "attachment:part-5.json"}));
  const Component* pdf = find(m, "attachment:Q3 report.pdf");
  EXPECT_EQ(pdf->kind, ComponentKind::attachment);
  EXPECT_EQ(pdf->filename, "Q3 report.pdf");
  EXPECT_EQ(pdf->declared_type, "application/pdf");
  EXPECT_EQ(pdf->data, "%PDF-1.4\n%\xC3\xA4\xC3\xBC");
  EXPECT_EQ(pdf->size, 14u);
  EXPECT_FALSE(pdf->is_text);
  EXPECT_TRUE(pdf->text.empty());
  const Component* csv = find(m, "attachment:customers.csv");
  EXPECT_TRUE(csv->is_text);
  EXPECT_EQ(csv->text, "name;card\nJos\xC3\xA9;4111111111111111");
  EXPECT_FALSE(find(m, "attachment:part-4.png")->is_text);
  EXPECT_EQ(find(m, "attachment:part-5.json")->text, "{\"ssn\": \"078-05-1120\"}");
}

TEST(MimeParse, OctetStreamThatIsTextIsSniffedAsText) {
  auto m = parse_ok(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n"
      "--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; "
      "filename=dump\n\n"
      "id,card\n1,4111111111111111\n--b\nContent-Type: application/octet-stream; name=a.bin\n\n"
      "PK\x03\x04zzz\n--b--\n");
  EXPECT_TRUE(find(m, "attachment:dump")->is_text);
  EXPECT_EQ(find(m, "attachment:dump")->text, "id,card\n1,4111111111111111");
  EXPECT_FALSE(find(m, "attachment:a.bin")->is_text);
}

TEST(MimeParse, Rfc2231FileNameWithContinuationsAndCharset) {
  auto m = parse_ok(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b\n"
      "Content-Type: application/octet-stream\n"
      "Content-Disposition: attachment;\n filename*0*=UTF-8''%E2%82%AC%20rates%20;\n"
      " filename*1=\"for K\";\n filename*2*=%C3%B6ln.xlsx\n\nbytes\n"
      "--b\nContent-Type: application/msword;\n name*=iso-8859-1'fr'r%E9sum%E9.doc\n\nx\n"
      "--b\nContent-Type: application/zip; name=\"=?UTF-8?B?w6l0w6kuemlw?=\"\n\nx\n--b--\n");
  EXPECT_NE(find(m, "attachment:\xE2\x82\xAC rates for K\xC3\xB6ln.xlsx"), nullptr);
  EXPECT_NE(find(m, "attachment:r\xC3\xA9sum\xC3\xA9.doc"), nullptr);
  EXPECT_NE(find(m, "attachment:\xC3\xA9t\xC3\xA9.zip"), nullptr);
}

TEST(MimeParse, HtmlBodyWithScriptStyleTablesAndEntities) {
  auto m = parse_ok(
      "Content-Type: text/html; charset=utf-8\n\n<html><head><style>td{x:1}</style>"
      "<script>alert('4000')</script></head><body><table><tr><td>Card</td><td>4111&nbsp;1111"
      "&#32;1111&#x20;1111</td></tr></table><p>M&uuml;ller &amp; Co</p></body></html>\n");
  EXPECT_EQ(bodies(m), (std::vector<std::string>{"Card\t4111 1111 1111 1111\nM\xC3\xBCller & Co"}));
}

TEST(MimeParse, HtmlMetaCharsetIsHonouredWhenTheHeaderHasNone) {
  auto m = parse_ok(
      "Content-Type: text/html\n\n<meta charset=\"koi8-r\"><p>\xF0\xD2\xC9\xD7\xC5\xD4</p>\n");
  EXPECT_EQ(bodies(m), (std::vector<std::string>{"Привет"}));
}

TEST(MimeParse, NestedForwardedMessagesThreeLevelsDeep) {
  std::string level3 =
      "Subject: innermost\nContent-Type: multipart/mixed; boundary=c3\n\n"
      "--c3\n\ncard 4111111111111111\n--c3\nContent-Type: text/plain\n"
      "Content-Disposition: attachment; filename=keys.txt\n\nAKIAIOSFODNN7EXAMPLE\n--c3--\n";
  std::string level2 =
      "Subject: =?UTF-8?Q?Fwd:_middle?=\nContent-Type: multipart/mixed; boundary=c2\n\n"
      "--c2\nContent-Type: text/html\n\n<p>middle&nbsp;text</p>\n"
      "--c2\nContent-Type: message/rfc822\n\n" +
      level3 + "--c2--\n";
  std::string level1 =
      "From: a@example.com\nSubject: outer\nContent-Type: multipart/mixed; boundary=c1\n\n"
      "--c1\n\nouter body\n--c1\nContent-Type: message/rfc822\n"
      "Content-Disposition: attachment; filename=\"deal.eml\"\n\n" +
      level2 +
      "--c1\nContent-Type: message/rfc822\n\nTo: x@example.com\n\nno subject here\n--c1--\n";
  auto m = parse_ok(level1);
  EXPECT_EQ(names(m), (std::vector<std::string>{"subject", "header", "body", "attachment:deal.eml",
                                                "attachment:deal.eml/innermost.eml",
                                                "attachment:deal.eml/innermost.eml/keys.txt",
                                                "attachment:forwarded.eml"}));
  const Component* deal = find(m, "attachment:deal.eml");
  EXPECT_EQ(deal->declared_type, "message/rfc822");
  EXPECT_NE(deal->text.find("Subject: Fwd: middle\n"), std::string::npos);
  EXPECT_NE(deal->text.find("middle text"), std::string::npos);
  EXPECT_EQ(deal->text.find("4111"), std::string::npos);
  const Component* inner = find(m, "attachment:deal.eml/innermost.eml");
  EXPECT_NE(inner->text.find("Subject: innermost\n"), std::string::npos);
  EXPECT_NE(inner->text.find("card 4111111111111111"), std::string::npos);
  EXPECT_EQ(find(m, "attachment:deal.eml/innermost.eml/keys.txt")->text, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_NE(find(m, "attachment:forwarded.eml")->text.find("no subject here"), std::string::npos);
  EXPECT_TRUE(m.problems.empty()) << m.problems.front().detail;
}

TEST(MimeParse, Base64EncodedAttachedMessageIsStillOpened) {
  // "Subject: hidden\n\nsecret 4111\n" in base64.
  auto m = parse_ok(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b\n"
      "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
      "U3ViamVjdDogaGlkZGVuCgpzZWNyZXQgNDExMQo=\n--b--\n");
  const Component* c = find(m, "attachment:hidden.eml");
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->text.find("secret 4111"), std::string::npos);
}

TEST(MimeParse, UuencodedAttachmentIsDecoded) {
  auto m = parse_ok(
      "Content-Type: application/octet-stream; name=h.txt\nContent-Transfer-Encoding: "
      "x-uuencode\n\n"
      "begin 644 h.txt\n-2&5L;&\\L('=O<FQD(0``\n`\nend\n");
  EXPECT_EQ(find(m, "attachment:h.txt")->data, "Hello, world!");
}

TEST(MimeParse, CrLfAndLfLineEndsGiveTheSameStructure) {
  std::string lf =
      "Subject: s\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n--b--\n";
  std::string crlf;
  for (char c : lf) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  EXPECT_EQ(bodies(parse_ok(lf)), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(bodies(parse_ok(crlf)), (std::vector<std::string>{"one", "two"}));
}

TEST(MimeParse, EncryptedContentIsRecordedAsUninspectable) {
  auto m = parse_ok(
      "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=e\n\n"
      "--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n"
      "--e\nContent-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----\n--e--\n");
  ASSERT_FALSE(m.problems.empty());
  EXPECT_NE(m.problems.front().detail.find("encrypted"), std::string::npos);
  EXPECT_EQ(m.problems.front().kind, ProblemKind::encrypted);
}

}  // namespace
}  // namespace cordon::mime
