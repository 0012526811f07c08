// Text of single-file document formats: PDF (poppler-cpp), RTF, HTML,
// and plain text or CSV in any charset.
#pragma once

#include <string>
#include <string_view>

#include "extract/detail/budget.hpp"

namespace cordon::extract::detail {

struct DocumentText {
  std::string text;        // UTF-8
  bool encrypted = false;  // a password is needed to read it
  std::string problem;     // why it could not be read (fully), empty if it could
};

// Page text in page order, one form feed between pages. Checks the budget's
// clock between pages.
DocumentText pdf_text(std::string_view bytes, const std::string& where, Budget& budget);

// Plain text of an RTF document: control words dropped, \'hh decoded in
// the document's ANSI code page, \uN decoded, non-text destinations
// (font tables, pictures, embedded objects' data) skipped.
std::string rtf_text(std::string_view rtf);

// Text in any charset (BOM, UTF-16 pattern, UTF-8, else Windows-1252).
std::string plain_text(std::string_view bytes);

// HTML in any charset, converted to the text a reader sees.
std::string html_text(std::string_view bytes);

}  // namespace cordon::extract::detail
