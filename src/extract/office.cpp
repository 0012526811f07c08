// Reading Office Open XML and OpenDocument packages (see office.hpp): which
// parts hold text, in which order, and which members are embedded files.
#include "extract/detail/office.hpp"

#include <algorithm>
#include <map>

namespace cordon::extract::detail {
namespace {

bool has(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.starts_with(prefix);
}

// "xl/worksheets/sheet10.xml" sorts after "sheet9.xml".
std::size_t trailing_number(std::string_view path) {
  auto dot = path.rfind('.');
  std::string_view stem = path.substr(0, dot);
  std::size_t start = stem.size();
  while (start > 0 && std::isdigit(static_cast<unsigned char>(stem[start - 1]))) --start;
  std::size_t n = 0;
  for (char c : stem.substr(start)) n = n * 10 + static_cast<std::size_t>(c - '0');
  return n;
}

bool in_dir_xml(std::string_view path, std::string_view dir) {
  return starts_with(path, dir) && path.ends_with(".xml") &&
         path.find('/', dir.size()) == std::string_view::npos;
}

bool is_embedded(std::string_view path) {
  return path.find("/embeddings/") != std::string_view::npos ||
         starts_with(path, "Object ");  // ODF embedded objects
}

// Rank of a part in reading order, or -1 when it holds no text we read.
int ooxml_rank(std::string_view p) {
  if (p == "xl/sharedStrings.xml") return 0;
  if (p == "word/document.xml") return 1;
  if (in_dir_xml(p, "xl/worksheets/")) return 2;
  if (in_dir_xml(p, "ppt/slides/")) return 3;
  if (starts_with(p, "word/header") && p.ends_with(".xml")) return 4;
  if (starts_with(p, "word/footer") && p.ends_with(".xml")) return 5;
  if (p == "word/footnotes.xml" || p == "word/endnotes.xml") return 6;
  if (in_dir_xml(p, "ppt/notesSlides/")) return 7;
  if (p == "word/comments.xml" || in_dir_xml(p, "xl/comments") || starts_with(p, "xl/comments"))
    return 8;
  return -1;
}

int odf_rank(std::string_view p) {
  if (p == "mimetype") return 0;
  if (p == "content.xml") return 1;
  if (p == "styles.xml") return 2;  // headers and footers live here
  return -1;
}

}  // namespace

OfficeFormat office_format(const std::vector<std::string>& names) {
  if (has(names, "[Content_Types].xml") &&
      (has(names, "word/document.xml") || has(names, "xl/workbook.xml") ||
       has(names, "ppt/presentation.xml")))
    return OfficeFormat::ooxml;
  if (has(names, "mimetype") && has(names, "content.xml")) return OfficeFormat::odf;
  return OfficeFormat::none;
}

std::string ooxml_type(const std::vector<std::string>& names) {
  const std::string base = "application/vnd.openxmlformats-officedocument.";
  if (has(names, "word/document.xml")) return base + "wordprocessingml.document";
  if (has(names, "xl/workbook.xml")) return base + "spreadsheetml.sheet";
  if (has(names, "ppt/presentation.xml")) return base + "presentationml.presentation";
  return "application/zip";
}

OfficeDocument read_office(std::string_view zip, OfficeFormat format,
                           const std::vector<std::string>& names, const std::string& where,
                           Budget& budget) {
  OfficeDocument doc;
  doc.type = format == OfficeFormat::ooxml ? ooxml_type(names) : "application/zip";
  auto rank = [format](std::string_view p) {
    return format == OfficeFormat::ooxml ? ooxml_rank(p) : odf_rank(p);
  };
  // Parts are small next to the limits, but still go through the budget.
  std::multimap<std::pair<int, std::size_t>, Member> parts;
  read_archive(
      zip, where, "data", budget,
      [&](const std::string& path) {
        return rank(path) >= 0 || is_embedded(path) ? Want::read : Want::skip;
      },
      [&](Member&& m) {
        doc.truncated = doc.truncated || m.truncated;
        if (is_embedded(m.path) && rank(m.path) < 0) {
          doc.embedded.push_back(std::move(m));
        } else {
          auto key = std::make_pair(rank(m.path), trailing_number(m.path));
          parts.emplace(key, std::move(m));
        }
        return true;
      },
      false);
  std::vector<std::string> shared;
  for (auto& [key, part] : parts) {
    std::string_view xml = part.data;
    std::string text;
    if (format == OfficeFormat::odf) {
      if (part.path == "mimetype") {
        std::string type(xml.substr(0, 100));
        while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back())))
          type.pop_back();
        if (starts_with(type, "application/vnd.oasis.opendocument.")) doc.type = type;
        continue;
      }
      text = odf_content_text(xml);
    } else if (part.path == "xl/sharedStrings.xml") {
      shared = xlsx_shared_strings(xml);
      continue;
    } else if (starts_with(part.path, "xl/worksheets/")) {
      text = xlsx_sheet_text(xml, shared);
    } else {
      text = ooxml_part_text(xml);
    }
    if (text.empty()) continue;
    if (!doc.text.empty() && doc.text.back() != '\n') doc.text += '\n';
    doc.text += text;
  }
  return doc;
}

}  // namespace cordon::extract::detail
