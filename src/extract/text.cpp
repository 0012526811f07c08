// Plain text, CSV and HTML attachments in any charset, through the MIME
// component's charset conversion and HTML-to-text, so that an attachment
// reads exactly as the same text would in a message body.
#include "extract/detail/documents.hpp"
#include "mime/charset.hpp"
#include "mime/classify.hpp"
#include "mime/html_text.hpp"

namespace cordon::extract::detail {

std::string plain_text(std::string_view bytes) {
  return mime::detail::to_utf8(bytes, "").text;
}

std::string html_text(std::string_view bytes) {
  return mime::detail::html_to_text(
      mime::detail::to_utf8(bytes, mime::detail::html_meta_charset(bytes)).text);
}

}  // namespace cordon::extract::detail
