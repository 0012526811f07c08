// Text of Office Open XML (docx, xlsx, pptx) and OpenDocument (odt, ods,
// odp) files, in reading order: body, then headers, footers, notes and
// comments; every sheet's shared, inline and numeric cell values, one row
// per line, cells separated by tabs; slides in order, then their notes.
// Files embedded in a document (word/embeddings/...) are returned as
// members so that they are inspected like archive members.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "extract/detail/archive_reader.hpp"
#include "extract/detail/budget.hpp"

namespace cordon::extract::detail {

enum class OfficeFormat { none, ooxml, odf };

// Recognises a document package from the names of its zip members.
OfficeFormat office_format(const std::vector<std::string>& member_names);

// The refined type of an OOXML package from its member names
// ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ...).
std::string ooxml_type(const std::vector<std::string>& member_names);

struct OfficeDocument {
  std::string type;              // refined true type
  std::string text;              // UTF-8, reading order
  std::vector<Member> embedded;  // embedded files, expanded
  bool truncated = false;        // a part was cut at a limit
};

OfficeDocument read_office(std::string_view zip, OfficeFormat format,
                           const std::vector<std::string>& member_names, const std::string& where,
                           Budget& budget);

// Part texts, exposed for tests.
std::string ooxml_part_text(std::string_view xml);  // docx/pptx body, headers, notes
std::vector<std::string> xlsx_shared_strings(std::string_view xml);
std::string xlsx_sheet_text(std::string_view xml, const std::vector<std::string>& shared);
std::string odf_content_text(std::string_view xml);

}  // namespace cordon::extract::detail
