// HTML to plain text for inspection: what a reader sees, plus the alt/title
// text and link targets that can carry data out of sight.
#pragma once

#include <string>
#include <string_view>

namespace cordon::mime::detail {

// Converts UTF-8 HTML to UTF-8 text in one linear pass. Tags, comments and
// the contents of <script>/<style>/<head>-only elements are dropped;
// entities (named and numeric) are decoded; block elements and <br> become
// line breaks and table cells tabs, so words never run together; runs of
// white space collapse to one space (except inside <pre>). The values of
// alt, title and href attributes are kept as separate words.
std::string html_to_text(std::string_view html);

}  // namespace cordon::mime::detail
