// PDF text through the PDF reading module (poppler-cpp, see
// detail/pdf_module.hpp), loaded the first time a PDF is read. A PDF whose
// user password is not empty is locked: it is reported as encrypted, never
// as clean. A module that cannot be loaded makes every PDF unreadable, a
// problem reported as such, never a silent pass.
#include <dlfcn.h>

#include <climits>
#include <filesystem>
#include <string>
#include <system_error>

#include "extract/detail/documents.hpp"
#include "extract/detail/pdf_module.hpp"
#include "mime/charset.hpp"

namespace cordon::extract::detail {
namespace {

struct PdfModule {
  PdfRead read = nullptr;
  std::string error;  // why it could not be loaded
};

// Next to the executable first (a cordon binary moved with its module), then
// where make install puts it, then where the build put it.
PdfModule load_pdf_module() {
  PdfModule module;
  std::string candidates[3];
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates[0] = (exe.parent_path() / kPdfModuleName).string();
    // An installed cordon: PREFIX/bin/cordon with PREFIX/lib/cordon/cordon-pdf.so.
    candidates[1] = (exe.parent_path().parent_path() / "lib" / "cordon" / kPdfModuleName).string();
  }
  candidates[2] = CORDON_PDF_MODULE;
  for (const std::string& path : candidates) {
    if (path.empty()) continue;
    // The handle is kept for the life of the process: the module is never
    // unloaded.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      module.error = why ? why : path;
      continue;
    }
    module.read = reinterpret_cast<PdfRead>(dlsym(handle, kPdfEntryPoint));
    if (module.read != nullptr) return module;
    module.error = path + ": no " + kPdfEntryPoint;
  }
  return module;
}

const PdfModule& pdf_module() {
  static const PdfModule module = load_pdf_module();
  return module;
}

struct PageReader {
  DocumentText& out;
  const std::string& where;
  Budget& budget;
};

bool stop_before_page(void* context, int index) {
  auto& r = *static_cast<PageReader*>(context);
  if (!r.budget.out_of_time(r.where)) return false;
  r.out.problem = "PDF text read only up to page " + std::to_string(index);
  return true;
}

bool add_page(void* context, int index, const char* utf8, std::size_t size) {
  auto& r = *static_cast<PageReader*>(context);
  if (index > 0) r.out.text += '\f';
  mime::detail::sanitize_utf8(std::string_view(utf8, size), r.out.text);
  if (r.out.text.size() <= r.budget.limits().max_file_bytes) return false;
  r.out.problem = "PDF text cut at " + std::to_string(r.budget.limits().max_file_bytes) + " bytes";
  return true;
}

}  // namespace

DocumentText pdf_text(std::string_view bytes, const std::string& where, Budget& budget) {
  DocumentText out;
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
    out.problem = "PDF too large to read";
    return out;
  }
  const PdfModule& module = pdf_module();
  if (module.read == nullptr) {
    out.problem = "PDF reader not available: " + module.error;
    return out;
  }
  PageReader reader{out, where, budget};
  PdfCallbacks callbacks{&reader, stop_before_page, add_page};
  char error[512] = "";
  auto status = static_cast<PdfStatus>(
      module.read(bytes.data(), static_cast<int>(bytes.size()), &callbacks, error, sizeof error));
  switch (status) {
    case PdfStatus::ok:
      break;
    case PdfStatus::damaged:
      out.problem = "damaged PDF: no text could be read";
      break;
    case PdfStatus::locked:
      out.encrypted = true;
      break;
    case PdfStatus::failed:
      out.problem = std::string("PDF could not be read: ") + error;
      break;
  }
  return out;
}

}  // namespace cordon::extract::detail
