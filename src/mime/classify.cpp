// Leaf-part classification and naming rules (see classify.hpp).
#include "mime/classify.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "mime/charset.hpp"

namespace cordon::mime::detail {

namespace {

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return r;
}

std::string extension(std::string_view filename) {
  std::size_t dot = filename.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == filename.size()) return {};
  return lower(filename.substr(dot + 1));
}

bool contains(std::initializer_list<std::string_view> set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

bool has_binary_magic(std::string_view data) {
  for (std::string_view magic :
       {std::string_view("%PDF"), std::string_view("PK\x03\x04"),
        std::string_view("\xD0\xCF\x11\xE0"), std::string_view("\x1F\x8B"),
        std::string_view("Rar!"), std::string_view("7z\xBC\xAF"), std::string_view("\x89PNG"),
        std::string_view("\xFF\xD8\xFF"), std::string_view("GIF8")}) {
    if (data.starts_with(magic)) return true;
  }
  return false;
}

}  // namespace

bool is_body_part(const ContentInfo& c) {
  return c.media_type == "text" && c.disposition != "attachment" && c.filename.empty();
}

bool is_text_attachment(const ContentInfo& c, std::string_view data) {
  if (c.media_type == "text") return true;
  const std::string& sub = c.subtype;
  if (c.media_type == "application" &&
      contains({"json", "xml", "javascript", "x-javascript", "ecmascript", "csv", "x-csv", "sql",
                "x-sh", "x-yaml", "yaml", "rtf", "pgp-keys", "x-pem-file", "x-x509-ca-cert",
                "pgp-signature", "x-httpd-php", "x-python"},
               sub)) {
    return true;
  }
  if (sub.ends_with("+xml") || sub.ends_with("+json")) return true;
  if (c.media_type == "message" &&
      contains({"delivery-status", "disposition-notification", "global-delivery-status"}, sub)) {
    return true;
  }
  std::string ext = extension(c.filename);
  if (contains({"txt", "csv",  "tsv",  "json", "xml",        "html", "htm", "md", "log", "ini",
                "cfg", "conf", "yaml", "yml",  "sql",        "js",   "ts",  "py", "sh",  "java",
                "c",   "cpp",  "h",    "cs",   "go",         "rb",   "php", "pl", "vcf", "ics",
                "pem", "key",  "asc",  "env",  "properties", "rtf",  "eml"},
               ext)) {
    return true;
  }
  bool untyped = !c.type_declared || (c.media_type == "application" && sub == "octet-stream");
  if (!untyped || data.empty() || has_binary_magic(data)) return false;
  std::size_t cut = std::min<std::size_t>(data.size(), 64 * 1024);
  while (cut > 0 && cut < data.size() && (static_cast<unsigned char>(data[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  std::string_view sample = data.substr(0, cut);
  return sample.find('\0') == std::string_view::npos && is_valid_utf8(sample);
}

std::string sanitize_name(std::string_view name) {
  std::string out;
  for (char ch : name) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '/') {
      out.push_back('_');
    } else if (c >= 0x20 && c != 0x7F) {
      out.push_back(ch);
    } else if (c == '\t') {
      out.push_back(' ');
    }
  }
  std::size_t b = out.find_first_not_of(' ');
  if (b == std::string::npos) return {};
  out = out.substr(b, out.find_last_not_of(' ') - b + 1);
  if (out.size() > 200) {
    std::size_t cut = 200;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  std::string valid;
  sanitize_utf8(out, valid);
  return valid;
}

std::string generated_name(const Entity& e) {
  struct TypeExtension {
    std::string_view type, ext;
  };
  static constexpr std::array<TypeExtension, 14> kExtensions = {{
      {"text/plain", "txt"},
      {"text/html", "html"},
      {"text/csv", "csv"},
      {"text/calendar", "ics"},
      {"application/pdf", "pdf"},
      {"application/zip", "zip"},
      {"application/json", "json"},
      {"application/xml", "xml"},
      {"image/png", "png"},
      {"image/jpeg", "jpg"},
      {"image/gif", "gif"},
      {"message/rfc822", "eml"},
      {"message/delivery-status", "txt"},
      {"application/ms-tnef", "dat"},
  }};
  std::string type = e.content.type();
  std::string_view ext = "bin";
  for (const auto& te : kExtensions) {
    if (te.type == type) ext = te.ext;
  }
  return "part-" + (e.part_id.empty() ? std::string("1") : e.part_id) + "." + std::string(ext);
}

std::string html_meta_charset(std::string_view html) {
  std::string head = lower(html.substr(0, 2048));
  std::size_t at = head.find("charset=");
  if (at == std::string::npos) return {};
  at += 8;
  while (at < head.size() && (head[at] == '"' || head[at] == '\'' || head[at] == ' ')) ++at;
  std::size_t end = at;
  while (end < head.size() &&
         (std::isalnum(static_cast<unsigned char>(head[end])) || head[end] == '-' ||
          head[end] == '_' || head[end] == ':' || head[end] == '.')) {
    ++end;
  }
  return head.substr(at, end - at);
}

}  // namespace cordon::mime::detail
