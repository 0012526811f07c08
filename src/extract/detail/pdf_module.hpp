// The entry point of the PDF reading module (poppler-cpp, built as
// cordon-pdf.so). It is loaded with dlopen the first time a PDF is read, so
// that poppler and the twenty shared libraries it brings (fonts, images,
// NSS) are not loaded, relocated and resolved by every `cordon` process:
// that was a quarter of the start-up of `cordon scan` on one message.
#pragma once

#include <cstddef>

namespace cordon::extract::detail {

enum class PdfStatus : int { ok = 0, damaged = 1, locked = 2, failed = 3 };

struct PdfCallbacks {
  void* context;
  // Before page `index` is read: true to stop reading.
  bool (*stop_before)(void* context, int index);
  // The UTF-8 text of page `index`: true to stop reading.
  bool (*page)(void* context, int index, const char* utf8, std::size_t size);
};

// Reads the pages of a PDF in order; on PdfStatus::failed, `error` holds why
// (cut to error_size - 1 bytes).
using PdfRead = int (*)(const char* data, int size, const PdfCallbacks* callbacks, char* error,
                        std::size_t error_size);

inline constexpr const char* kPdfModuleName = "cordon-pdf.so";
inline constexpr const char* kPdfEntryPoint = "cordon_pdf_read";

}  // namespace cordon::extract::detail
