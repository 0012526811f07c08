// PDF text with poppler-cpp. A PDF whose user password is not empty is
// locked: it is reported as encrypted, never as clean. poppler's own
// diagnostics about damaged files go nowhere: they are expected on
// untrusted input and the outcome is reported instead.
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <climits>
#include <memory>

#include "extract/detail/documents.hpp"
#include "mime/charset.hpp"

namespace cordon::extract::detail {
namespace {

void discard_poppler_message(const std::string&, void*) {}

}  // namespace

DocumentText pdf_text(std::string_view bytes, const std::string& where, Budget& budget) {
  DocumentText out;
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
    out.problem = "PDF too large to read";
    return out;
  }
  try {
    poppler::set_debug_error_function(discard_poppler_message, nullptr);
    std::unique_ptr<poppler::document> doc(
        poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
    if (!doc) {
      out.problem = "damaged PDF: no text could be read";
      return out;
    }
    if (doc->is_locked()) {
      out.encrypted = true;
      return out;
    }
    int pages = doc->pages();
    for (int i = 0; i < pages; ++i) {
      if (budget.out_of_time(where)) {
        out.problem = "PDF text read only up to page " + std::to_string(i);
        break;
      }
      std::unique_ptr<poppler::page> page(doc->create_page(i));
      if (!page) continue;
      poppler::byte_array utf8 = page->text().to_utf8();
      if (i > 0) out.text += '\f';
      mime::detail::sanitize_utf8(std::string_view(utf8.data(), utf8.size()), out.text);
      if (out.text.size() > budget.limits().max_file_bytes) {
        out.problem =
            "PDF text cut at " + std::to_string(budget.limits().max_file_bytes) + " bytes";
        break;
      }
    }
  } catch (const std::exception& e) {
    out.problem = std::string("PDF could not be read: ") + e.what();
  }
  return out;
}

}  // namespace cordon::extract::detail
