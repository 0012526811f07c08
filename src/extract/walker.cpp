// Routing of each file to the reader for its true type, and descent into
// containers (see walker.hpp). Type decisions use the content only: a
// declared type or file name never makes a file skip inspection.
#include "extract/detail/walker.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>

#include "extract/detail/archive_reader.hpp"
#include "extract/detail/documents.hpp"
#include "extract/detail/office.hpp"
#include "mime/charset.hpp"

namespace cordon::extract::detail {
namespace {

// libmagic looks at the start of a file; more costs time and finds nothing.
constexpr std::size_t kMagicWindow = 1u << 20;
constexpr std::string_view kCfbSignature{"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8};

bool one_of(std::string_view type, std::initializer_list<std::string_view> types) {
  return std::find(types.begin(), types.end(), type) != types.end();
}

bool is_zip_like(std::string_view type) {
  return one_of(type, {"application/zip", "application/x-zip-compressed",
                       "application/java-archive", "application/vnd.android.package-archive"}) ||
         type.starts_with("application/vnd.openxmlformats-officedocument.") ||
         type.starts_with("application/vnd.oasis.opendocument.");
}

bool is_archive(std::string_view type) {
  return is_zip_like(type) ||
         one_of(type,
                {"application/x-tar", "application/gzip", "application/x-gzip",
                 "application/x-bzip2", "application/x-xz", "application/x-lzma",
                 "application/zstd", "application/x-zstd", "application/x-lzip",
                 "application/x-compress", "application/x-7z-compressed", "application/x-rar",
                 "application/vnd.rar", "application/x-cpio", "application/vnd.ms-cab-compressed",
                 "application/x-archive", "application/x-iso9660-image"});
}

// The name of what a compressed stream holds: report.csv.gz -> report.csv.
std::string stream_member_name(const std::string& name) {
  static constexpr std::pair<std::string_view, std::string_view> kSuffixes[] = {
      {".tgz", ".tar"}, {".tbz2", ".tar"}, {".txz", ".tar"}, {".gz", ""}, {".bz2", ""},
      {".xz", ""},      {".lzma", ""},     {".zst", ""},     {".lz", ""}, {".Z", ""}};
  for (auto [suffix, replacement] : kSuffixes) {
    if (name.size() > suffix.size() && name.ends_with(suffix))
      return name.substr(0, name.size() - suffix.size()) + std::string(replacement);
  }
  return name.empty() ? "data" : name + ".data";
}

// An encrypted OOXML document is a CFB container holding the encrypted
// package and its EncryptionInfo stream (MS-OFFCRYPTO); their names are
// stored in UTF-16LE in the container's directory.
bool cfb_holds_encrypted_package(std::string_view bytes) {
  static const std::string kName = [] {
    std::string s;
    for (char c : std::string_view("EncryptionInfo")) {
      s += c;
      s += '\0';
    }
    return s;
  }();
  return bytes.find(kName) != std::string_view::npos;
}

std::vector<std::string> member_names(std::string_view bytes, const std::string& where,
                                      Budget& budget) {
  std::vector<std::string> names;
  read_archive(
      bytes, where, "data", budget,
      [&](const std::string& path) {
        names.push_back(path);
        return Want::skip;
      },
      [&](Member&& m) {
        names.push_back(m.path);
        return true;
      });
  return names;
}

std::string last_element(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Markup ('<'), DEL or a control character other than tab, line feed,
// carriage return and form feed anywhere in `text`. Sixteen bytes a step:
// it reads up to a megabyte of every text attachment.
bool has_markup_or_control(std::string_view text) {
  using Bytes = unsigned char __attribute__((vector_size(16)));
  const auto bad_byte = [](unsigned char c) {
    return c == '<' || c == 0x7F || (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f');
  };
  const char* p = text.data();
  const std::size_t n = text.size();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    Bytes v;
    std::memcpy(&v, p + i, 16);
    const auto bad = (v == '<') | (v == 0x7F) |
                     ((v < 0x20) & (v != '\t') & (v != '\n') & (v != '\r') & (v != '\f'));
    std::uint64_t halves[2];
    std::memcpy(halves, &bad, sizeof halves);
    if ((halves[0] | halves[1]) != 0) return true;
  }
  for (; i < n; ++i)
    if (bad_byte(static_cast<unsigned char>(p[i]))) return true;
  return false;
}

}  // namespace

std::optional<std::string_view> signature_type(std::string_view bytes) {
  // libmagic's own answers for these signatures (its rules for them carry
  // one MIME type whatever follows).
  static constexpr std::pair<std::string_view, std::string_view> kSignatures[] = {
      {"%PDF-", "application/pdf"},   {"\x89PNG\r\n\x1a\n", "image/png"},
      {"GIF87a", "image/gif"},        {"GIF89a", "image/gif"},
      {"\xFF\xD8\xFF", "image/jpeg"}, {"\x1F\x8B\x08", "application/gzip"},
      {"{\\rtf", "text/rtf"}};
  for (auto [signature, type] : kSignatures)
    if (bytes.starts_with(signature)) return type;
  return std::nullopt;
}

bool looks_like_prose(std::string_view text) {
  const auto is_alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (text.empty() || !is_alnum(text.front())) return false;
  // Markup anywhere (HTML, XML, SGML, PHP) and control characters
  // (troff, terminal escapes, binary data).
  if (has_markup_or_control(text)) return false;
  // A header or mail block: "Name: value" or an mbox "From " first line.
  std::size_t name = 0;
  while (name < text.size() && (is_alnum(text[name]) || text[name] == '-' || text[name] == '_'))
    ++name;
  if ((name < text.size() && text[name] == ':') || text.starts_with("From ")) return false;
  // Lines that start a script, a diff, a TeX or troff source, an armoured
  // key, or a program in the languages libmagic names.
  static constexpr std::string_view kLineStarts[] = {
      "#",        "%",        ".",       "\\",       "@",     "--- ",     "+++ ",   "-----BEGIN",
      "diff ",    "Index:",   "begin ",  "import ",  "from ", "package ", "def ",   "class ",
      "function", "use ",     "module ", "program ", "sub ",  "var ",     "let ",   "const ",
      "public ",  "private ", "static ", "struct ",  "int ",  "void ",    "BEGIN:", "[",
      "{",        "(",        "/*",      "//",       ";"};
  // The first byte first: most lines start with none of these.
  static const std::array<bool, 256> kFirstBytes = [] {
    std::array<bool, 256> table{};
    for (std::string_view start : kLineStarts)
      table[static_cast<unsigned char>(start.front())] = true;
    return table;
  }();
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.empty() && kFirstBytes[static_cast<unsigned char>(line.front())])
      for (std::string_view start : kLineStarts)
        if (line.starts_with(start)) return false;
    pos = end + 1;
  }
  return true;
}

std::string magic_type(const MagicSets& magic, std::string_view bytes) {
  if (bytes.empty()) return "application/x-empty";
  if (bytes.starts_with(kCfbSignature) && cfb_holds_encrypted_package(bytes))
    return "application/encrypted";
  if (auto known = signature_type(bytes)) return std::string(*known);
  const std::string_view window = bytes.substr(0, kMagicWindow);
  const char* t = nullptr;
  if (magic.quick && looks_like_prose(window)) {
    // What the quick handle answers for prose is the full answer too: its
    // CSV and JSON tests are the ones the full handle runs first.
    t = magic_buffer(magic.quick, window.data(), window.size());
    if (t && !one_of(t, {"text/plain", "text/csv", "application/json"})) t = nullptr;
  }
  if (!t && magic.full) t = magic_buffer(magic.full, window.data(), window.size());
  std::string type = t ? t : "application/octet-stream";
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return type;
}

bool Walker::may_descend(std::size_t index, std::size_t depth, Extraction& out) {
  if (depth < budget_.limits().max_depth) return true;
  Item& item = out.items[index];
  item.truncated = true;
  budget_.hit(
      LimitKind::depth, where(item.path),
      "archives nested deeper than " + std::to_string(budget_.limits().max_depth) + " levels");
  return false;
}

void Walker::visit(const std::string& path, const std::string& name, std::string_view bytes,
                   std::size_t depth, Extraction& out) {
  if (budget_.out_of_time(where(path))) return;
  std::size_t index = out.items.size();
  {
    Item item;
    item.path = path;
    item.name = name;
    item.size = bytes.size();
    item.type = magic_type(magic_, bytes);
    out.items.push_back(std::move(item));
  }
  const std::string type = out.items[index].type;
  if (type == "application/encrypted") {
    out.items[index].encrypted = true;
  } else if (is_archive(type)) {
    archive(index, bytes, depth, out);
  } else if (type == "application/pdf") {
    DocumentText d = pdf_text(bytes, where(path), budget_);
    out.items[index].text = std::move(d.text);
    out.items[index].encrypted = d.encrypted;
    if (!d.problem.empty())
      out.problems.push_back(
          {mime::ProblemKind::decode_error, where(path), where(path) + ": " + d.problem});
  } else if (type == "text/rtf" || type == "application/rtf") {
    out.items[index].text = rtf_text(bytes);
  } else if (type == "text/html" || type == "application/xhtml+xml") {
    out.items[index].text = html_text(bytes);
  } else if (type == "message/rfc822") {
    message(index, bytes, depth, out);
  } else if (type.starts_with("text/") || type == "application/json" || type == "application/csv" ||
             type == "application/xml") {
    out.items[index].text = plain_text(bytes);
  }
}

void Walker::archive(std::size_t index, std::string_view bytes, std::size_t depth,
                     Extraction& out) {
  const std::string path = out.items[index].path;
  const std::string here = where(path);
  auto child_path = [&](const std::string& inner) {
    return path.empty() ? inner : path + "/" + inner;
  };
  if (is_zip_like(out.items[index].type)) {
    auto names = member_names(bytes, here, budget_);
    OfficeFormat format = office_format(names);
    if (format != OfficeFormat::none) {
      OfficeDocument doc = read_office(bytes, format, names, here, budget_);
      Item& item = out.items[index];
      item.type = doc.type;
      item.text = std::move(doc.text);
      if (!mime::detail::is_valid_utf8(item.text)) {
        std::string clean;
        mime::detail::sanitize_utf8(item.text, clean);
        item.text = std::move(clean);
      }
      item.truncated = doc.truncated;
      if (!doc.embedded.empty() && may_descend(index, depth, out)) {
        for (auto& m : doc.embedded)
          visit(child_path(m.path), last_element(m.path), m.data, depth + 1, out);
      }
      return;
    }
  }
  out.items[index].container = true;
  if (!may_descend(index, depth, out)) return;
  std::string stream_name = stream_member_name(out.items[index].name);
  ArchiveOutcome outcome = read_archive(
      bytes, here, stream_name, budget_, [](const std::string&) { return Want::read; },
      [&](Member&& m) {
        if (m.encrypted) {
          Item item;
          item.path = child_path(m.path);
          item.name = last_element(m.path);
          item.type = "application/octet-stream";
          item.size = m.size;
          item.encrypted = true;
          out.items.push_back(std::move(item));
          return true;
        }
        std::size_t child = out.items.size();
        visit(child_path(m.path), last_element(m.path), m.data, depth + 1, out);
        if (m.truncated && child < out.items.size()) out.items[child].truncated = true;
        return !budget_.exhausted();
      });
  Item& item = out.items[index];
  item.encrypted = outcome.encrypted;
  if (!outcome.error.empty() && !outcome.encrypted)
    out.problems.push_back({mime::ProblemKind::decode_error, here, here + ": " + outcome.error});
}

void Walker::message(std::size_t index, std::string_view bytes, std::size_t depth,
                     Extraction& out) {
  if (!may_descend(index, depth, out)) return;
  auto parsed = mime::parse(bytes);
  if (!parsed) {
    const auto kind = parsed.error().code == mime::ParseErrorCode::empty_input
                          ? mime::ProblemKind::malformed
                          : mime::ProblemKind::decode_error;
    out.problems.push_back({kind, where(out.items[index].path),
                            where(out.items[index].path) + ": " + parsed.error().detail});
    return;
  }
  // What the attached message's own parse could not read is as unread here.
  for (auto& p : parsed->problems)
    out.problems.push_back(
        {p.kind, where(out.items[index].path), where(out.items[index].path) + ": " + p.detail});
  const std::string path = out.items[index].path;
  out.items[index].container = true;
  std::string text;
  std::vector<std::pair<std::string, const mime::Component*>> attachments;
  for (const auto& c : parsed->components) {
    if (c.kind == mime::ComponentKind::attachment && !c.data.empty()) {
      attachments.emplace_back(c.name.substr(c.name.find(':') + 1), &c);
      continue;
    }
    if (c.text.empty()) continue;
    if (!text.empty()) text += '\n';
    text += c.text;
  }
  out.items[index].text = std::move(text);
  for (const auto& [inner, c] : attachments)
    visit(path.empty() ? inner : path + "/" + inner, last_element(inner), c->data, depth + 1, out);
}

}  // namespace cordon::extract::detail
