// HTML to plain text for inspection: what a reader sees, plus what can
// carry data out of sight -- comments, script and style contents, hidden
// elements (CSS is not applied: display:none, the hidden attribute and tiny
// fonts change nothing), alt/title/value/data- attributes and link targets.
#pragma once

#include <string>
#include <string_view>

namespace cordon::mime::detail {

// Converts UTF-8 HTML to UTF-8 text in one linear pass. Tags are dropped;
// comments, CDATA and the contents of <script>/<style>/<template>/
// <noscript>/<xml> are kept as written, on lines of their own; entities (named and numeric) are
// decoded; block elements and <br> become line breaks and table cells tabs, so words never run
// together; runs of white space collapse to one space (except inside <pre>). The values of alt,
// title, value, input-hint, content, label, aria-label, summary, data-*, href and src attributes
// (not data: URIs) are kept as separate words.
std::string html_to_text(std::string_view html);

}  // namespace cordon::mime::detail
