// HTML to text: what a reader sees, with words kept apart.
#include "mime/html_text.hpp"

#include <gtest/gtest.h>

namespace cordon::mime::detail {
namespace {

TEST(HtmlText, TagsRemovedAndEntitiesDecoded) {
  EXPECT_EQ(html_to_text("<p>Fish &amp; chips &lt;3 &quot;x&quot; &#65;&#x42; caf&eacute;</p>"),
            "Fish & chips <3 \"x\" AB caf\xC3\xA9");
}

TEST(HtmlText, NbspBecomesSpaceAndWhitespaceCollapses) {
  EXPECT_EQ(html_to_text("4111&nbsp;1111\n\n   1111&#160;1111"), "4111 1111 1111 1111");
}

// A reader does not see them, which is why data hides there.
TEST(HtmlText, ScriptStyleAndCommentsAreKeptOnLinesOfTheirOwn) {
  EXPECT_EQ(html_to_text("<style>p{color:red}</style>Hi<script>var x='<p>4111';</script>"
                         "<!-- hidden --> there<SCRIPT type=x>y</SCRIPT >"),
            "p{color:red}\nHi\nvar x='<p>4111';\nhidden\nthere\ny");
  EXPECT_EQ(html_to_text("a<!--4111 1111\n1111 1111-->b<![CDATA[ 078-05-1120 ]]>c"),
            "a\n4111 1111\n1111 1111\nb\n078-05-1120\nc");
}

TEST(HtmlText, HiddenElementsAndDataAttributesAreKept) {
  EXPECT_EQ(html_to_text("<div style=\"display:none\">4111 1111 1111 1111</div>"
                         "<span hidden>a</span><font size=\"1\" color=\"#fff\">b</font>"
                         "<input value=\"v1\" data-card=\"c2\" class=\"k\">"),
            "4111 1111 1111 1111\nab v1 c2");
}

TEST(HtmlText, BlockElementsAndBreaksSeparateWords) {
  EXPECT_EQ(html_to_text("<div>alpha</div><div>beta</div>gamma<br>delta<p>epsilon</p>"),
            "alpha\nbeta\ngamma\ndelta\nepsilon");
}

TEST(HtmlText, TableCellsAreSeparated) {
  EXPECT_EQ(html_to_text("<table><tr><td>Name</td><td>Card</td></tr>"
                         "<tr><td>Ann</td><td>4111111111111111</td></tr></table>"),
            "Name\tCard\nAnn\t4111111111111111");
}

TEST(HtmlText, InlineElementsDoNotSplitWords) {
  EXPECT_EQ(html_to_text("con<b>fi</b>den<span>tial</span>"), "confidential");
}

TEST(HtmlText, AltTitleAndHrefAreKept) {
  EXPECT_EQ(html_to_text("<img src=\"cid:1\" alt=\"SSN 078-05-1120\">"
                         "<a href='https://x.example/?q=secret' title=\"T &amp; C\">link</a>"),
            "SSN 078-05-1120 https://x.example/?q=secret T & C link");
}

TEST(HtmlText, DataUrisAreNotCopied) {
  EXPECT_EQ(html_to_text("<a href=\"data:text/plain;base64,QUFB\">x</a>"), "x");
}

TEST(HtmlText, PreKeepsLineBreaks) {
  EXPECT_EQ(html_to_text("<pre>a  b\nc</pre>"), "a  b\nc");
}

TEST(HtmlText, BrokenMarkupTerminates) {
  EXPECT_EQ(html_to_text("a < b and <unclosed attr=\"x"), "a < b and");
  EXPECT_EQ(html_to_text("<script>never closed"), "never closed");
  EXPECT_EQ(html_to_text("&bogus; &#xZZ; &"), "&bogus; &#xZZ; &");
}

}  // namespace
}  // namespace cordon::mime::detail
