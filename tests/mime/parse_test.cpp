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
  // The preamble and epilogue are not shown by readers, so data hides there.
  EXPECT_EQ(bodies(m),
            (std::vector<std::string>{"preamble", "plain 4111", "html 4111", "epilogue\n"}));
  EXPECT_TRUE(m.problems.empty()) << m.problems.front();
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
  // Style and script contents are kept on lines of their own: unseen text.
  EXPECT_EQ(bodies(m),
            (std::vector<std::string>{
                "td{x:1}\nalert('4000')\nCard\t4111 1111 1111 1111\nM\xC3\xBCller & Co"}));
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
  EXPECT_TRUE(m.problems.empty()) << m.problems.front();
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
  EXPECT_NE(m.problems.front().find("encrypted"), std::string::npos);
}

}  // namespace
}  // namespace cordon::mime

namespace cordon::mime {
namespace {

// Content fields are scanned, structure fields are not: a generated
// boundary or Message-ID must never read as data the sender wrote.
TEST(MimeParse, HeaderComponentHoldsContentFieldsOnly) {
  auto m = parse_ok(
      "From: =?utf-8?q?Ann_N=C3=BC?= <ann@example.com>\r\nTo: bob@example.com\r\n"
      "Subject: s\r\nComments: see inside\r\nX-Ticket: T-77\r\nKeywords: alpha\r\n"
      "Message-ID: <BOUNDARYID@example.com>\r\nReferences: <REFID@example.com>\r\n"
      "Received: from RECEIVEDHOST\r\nDKIM-Signature: v=1; b=DKIMHASH\r\n"
      "ARC-Seal: i=1; b=ARCHASH\r\nDate: Wed, 2 Dec 2026 10:00:00 +0000\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"===============BOUNDARYVALUE==\"\r\n\r\n"
      "PREAMBLE\r\n--===============BOUNDARYVALUE==\r\n"
      "Content-Type: text/plain\r\nContent-Description: PARTDESCRIPTION\r\n"
      "X-Part-Note: PARTNOTE\r\n\r\nhello\r\n"
      "--===============BOUNDARYVALUE==\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9%20FILENAME.bin\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n"
      "--===============BOUNDARYVALUE==--\r\n");
  const Component* header = find(m, "header");
  ASSERT_NE(header, nullptr);
  const std::string& t = header->text;
  for (const char* kept : {"Ann Nü", "see inside", "X-Ticket: T-77", "Keywords: alpha",
                           "Content-Description: PARTDESCRIPTION", "X-Part-Note: PARTNOTE",
                           "file name: résumé FILENAME.bin"})
    EXPECT_NE(t.find(kept), std::string::npos) << kept << " in\n" << t;
  for (const char* dropped : {"BOUNDARY", "REFID", "RECEIVEDHOST", "DKIMHASH", "ARCHASH",
                              "Date:", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"})
    EXPECT_EQ(t.find(dropped), std::string::npos) << dropped << " in\n" << t;
}

TEST(MimeParse, AttachedMessageFieldsFollowTheSameRule) {
  auto m = parse_ok(
      "Subject: fwd\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
      "Content-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n"
      "Content-Type: message/rfc822\r\nContent-Description: OUTERDESC\r\n\r\n"
      "Subject: inner\r\nX-Secret: INNERNOTE\r\nMessage-ID: <INNERID@x>\r\n"
      "Content-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n"
      "Content-Type: text/plain\r\nContent-Description: INNERDESC\r\n\r\ntext\r\n--c--\r\n"
      "--b--\r\n");
  const Component* header = find(m, "header");
  const Component* inner = find(m, "attachment:inner.eml");
  ASSERT_NE(header, nullptr);
  ASSERT_NE(inner, nullptr);
  EXPECT_NE(header->text.find("OUTERDESC"), std::string::npos);
  EXPECT_NE(inner->text.find("INNERNOTE"), std::string::npos);
  EXPECT_NE(inner->text.find("INNERDESC"), std::string::npos);
  EXPECT_EQ(inner->text.find("INNERID"), std::string::npos);
}

}  // namespace
}  // namespace cordon::mime

namespace cordon::mime {
namespace {

TEST(MimeParse, InlineUuencodedFilesBecomeAttachments) {
  // "4111 1111 1111 1111\n" uuencoded, inside ordinary text.
  auto m = parse_ok(
      "Subject: uu\n\nsee below\nbegin 644 cards.txt\n"
      "4-#$Q,2`Q,3$Q(#$Q,3$@,3$Q,0H`\n`\nend\nbye\n");
  const Component* file = find(m, "attachment:cards.txt");
  ASSERT_NE(file, nullptr) << ::testing::PrintToString(names(m));
  EXPECT_EQ(file->data, "4111 1111 1111 1111\n");
  EXPECT_EQ(file->text, "4111 1111 1111 1111\n");
  ASSERT_EQ(bodies(m).size(), 1u);
  EXPECT_NE(bodies(m)[0].find("see below"), std::string::npos);
  EXPECT_TRUE(m.problems.empty()) << m.problems.front();
}

TEST(MimeParse, UnknownEncodingThatIsPlainlyBase64IsDecodedAndKeptAsWritten) {
  auto m = parse_ok(
      "Content-Type: text/plain\nContent-Transfer-Encoding: x-secret\n\n"
      "Q2FyZCA0MTExIDExMTEgMTExMSAxMTEx\n");
  EXPECT_EQ(bodies(m), (std::vector<std::string>{"Q2FyZCA0MTExIDExMTEgMTExMSAxMTEx\n",
                                                 "Card 4111 1111 1111 1111"}));
  ASSERT_EQ(m.problems.size(), 1u);
  EXPECT_NE(m.problems[0].find("read as base64 and as written"), std::string::npos);
  auto q = parse_ok(
      "Content-Type: text/plain\nContent-Transfer-Encoding: 9bit\n\nCard 4111=201111=\n "
      "1111 1111\n");
  EXPECT_EQ(bodies(q), (std::vector<std::string>{"Card 4111=201111=\n 1111 1111\n",
                                                 "Card 4111 1111 1111 1111\n"}));
  auto plain =
      parse_ok("Content-Type: text/plain\nContent-Transfer-Encoding: 9bit\n\nJust text, a=b.\n");
  EXPECT_EQ(bodies(plain), (std::vector<std::string>{"Just text, a=b.\n"}));
  ASSERT_EQ(plain.problems.size(), 1u);
  EXPECT_NE(plain.problems[0].find("read as 8bit"), std::string::npos);
}

}  // namespace
}  // namespace cordon::mime

namespace cordon::mime {
namespace {

TEST(MimeParse, MessagePartialFragmentsOfOneMessageAreReassembled) {
  auto m = parse_ok(
      "Subject: parts\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
      "Content-Type: message/partial; id=\"frag@x\"; number=2; total=2\n\n"
      "1111 1111 1111\n--b\n"
      "Content-Type: message/partial; id=\"frag@x\"; number=1\n\n"
      "Subject: inner\nContent-Type: text/plain\n\ncard 4111 \n--b\n"
      "Content-Type: message/partial; id=\"alone@x\"; number=1; total=3\n\n"
      "Subject: lonely\n\nfirst third\n--b--\n");
  const Component* whole = find(m, "attachment:reassembled-1.eml");
  ASSERT_NE(whole, nullptr) << ::testing::PrintToString(names(m));
  EXPECT_NE(whole->text.find("Subject: inner"), std::string::npos);
  EXPECT_NE(whole->text.find("card 4111 1111 1111 1111"), std::string::npos) << whole->text;
  // Each fragment is also scanned as written.
  std::size_t fragments = 0;
  for (const auto& c : m.components)
    if (c.declared_type == "message/partial" && c.name != whole->name) {
      ++fragments;
      EXPECT_FALSE(c.text.empty());
    }
  EXPECT_EQ(fragments, 3u);
  // The lone fragment cannot be reassembled: a problem, not a silent pass.
  ASSERT_EQ(m.problems.size(), 1u) << ::testing::PrintToString(m.problems);
  EXPECT_NE(m.problems[0].find("\"alone@x\": fragment(s) 1 of 3"), std::string::npos)
      << m.problems[0];
  EXPECT_NE(m.problems[0].find("cannot be reassembled"), std::string::npos);
}

}  // namespace
}  // namespace cordon::mime
