// The PDF reading module: poppler-cpp behind the plain entry point of
// extract/detail/pdf_module.hpp, loaded by extract only when a PDF is met.
// poppler's own diagnostics about damaged files go nowhere: they are
// expected on untrusted input and the outcome is reported instead.
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include "extract/detail/pdf_module.hpp"

namespace {

void discard_poppler_message(const std::string&, void*) {}

}  // namespace

extern "C" __attribute__((visibility("default"))) int cordon_pdf_read(
    const char* data, int size, const cordon::extract::detail::PdfCallbacks* callbacks, char* error,
    std::size_t error_size) {
  using cordon::extract::detail::PdfStatus;
  try {
    poppler::set_debug_error_function(discard_poppler_message, nullptr);
    std::unique_ptr<poppler::document> doc(poppler::document::load_from_raw_data(data, size));
    if (!doc) return static_cast<int>(PdfStatus::damaged);
    if (doc->is_locked()) return static_cast<int>(PdfStatus::locked);
    int pages = doc->pages();
    for (int i = 0; i < pages; ++i) {
      if (callbacks->stop_before(callbacks->context, i)) break;
      std::unique_ptr<poppler::page> page(doc->create_page(i));
      if (!page) continue;
      poppler::byte_array utf8 = page->text().to_utf8();
      if (callbacks->page(callbacks->context, i, utf8.data(), utf8.size())) break;
    }
    return static_cast<int>(PdfStatus::ok);
  } catch (const std::exception& e) {
    if (error_size > 0) {
      std::size_t n = std::min(std::strlen(e.what()), error_size - 1);
      std::memcpy(error, e.what(), n);
      error[n] = '\0';
    }
    return static_cast<int>(PdfStatus::failed);
  }
}
