// Decisions about a leaf part that do not depend on the tree: is it body
// text or an attachment, does an attachment hold text, and what it is called.
#pragma once

#include <string>
#include <string_view>

#include "mime/detail/entity.hpp"

namespace cordon::mime::detail {

// Inline text without a file name is body text; everything else is an
// attachment.
bool is_body_part(const ContentInfo& content);

// Whether an attachment's bytes are text worth converting: a textual
// declared type, a textual file extension, or (for untyped/octet-stream
// data) content that looks like UTF-8 text without NUL bytes.
bool is_text_attachment(const ContentInfo& content, std::string_view data);

// A file name fit for "attachment:NAME": '/' (the nesting separator) and
// control characters replaced, white space trimmed, at most 200 bytes.
std::string sanitize_name(std::string_view name);

// "part-1.2.pdf" style name for a part that has none.
std::string generated_name(const Entity& e);

// The charset an HTML document declares in a <meta> tag near its start.
std::string html_meta_charset(std::string_view html);

}  // namespace cordon::mime::detail
