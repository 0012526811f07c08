// Streaming XML tag scanner (see xml_scan.hpp).
#include "extract/detail/xml_scan.hpp"

#include <charconv>

#include "mime/charset.hpp"

namespace cordon::extract::detail {

std::string_view local_name(std::string_view qualified) {
  auto colon = qualified.rfind(':');
  return colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
}

void decode_entities(std::string_view raw, std::string& out) {
  std::size_t i = 0;
  while (i < raw.size()) {
    std::size_t amp = raw.find('&', i);
    if (amp == std::string_view::npos) {
      out.append(raw.substr(i));
      return;
    }
    out.append(raw.substr(i, amp - i));
    std::size_t semi = raw.find(';', amp);
    if (semi == std::string_view::npos || semi - amp > 12) {
      out += '&';
      i = amp + 1;
      continue;
    }
    std::string_view ent = raw.substr(amp + 1, semi - amp - 1);
    bool known = true;
    if (ent == "lt")
      out += '<';
    else if (ent == "gt")
      out += '>';
    else if (ent == "amp")
      out += '&';
    else if (ent == "quot")
      out += '"';
    else if (ent == "apos")
      out += '\'';
    else if (ent.size() > 1 && ent[0] == '#') {
      bool hex = ent[1] == 'x' || ent[1] == 'X';
      std::string_view digits = ent.substr(hex ? 2 : 1);
      unsigned long cp = 0;
      auto [p, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (ec == std::errc() && p == digits.data() + digits.size() && !digits.empty())
        mime::detail::append_utf8(out, static_cast<char32_t>(cp > 0x10FFFF ? 0xFFFD : cp));
      else
        known = false;
    } else {
      known = false;
    }
    if (known) {
      i = semi + 1;
    } else {
      out += '&';
      i = amp + 1;
    }
  }
}

std::string attribute(std::string_view attributes, std::string_view name) {
  std::size_t i = 0;
  while (i < attributes.size()) {
    std::size_t eq = attributes.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string_view key = attributes.substr(i, eq - i);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.front())))
      key.remove_prefix(1);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back())))
      key.remove_suffix(1);
    std::size_t q = attributes.find_first_of("\"'", eq);
    if (q == std::string_view::npos) break;
    std::size_t close = attributes.find(attributes[q], q + 1);
    if (close == std::string_view::npos) break;
    if (key == name) {
      std::string out;
      decode_entities(attributes.substr(q + 1, close - q - 1), out);
      return out;
    }
    i = close + 1;
  }
  return {};
}

void scan_xml(std::string_view xml, XmlHandler& handler) {
  std::size_t i = 0;
  std::string decoded;
  // Character data outside the root element (line breaks after the XML
  // declaration) is not document text.
  std::size_t depth = 0;
  while (i < xml.size()) {
    std::size_t lt = xml.find('<', i);
    std::size_t text_end = lt == std::string_view::npos ? xml.size() : lt;
    if (text_end > i && depth > 0) {
      decoded.clear();
      decode_entities(xml.substr(i, text_end - i), decoded);
      handler.text(decoded);
    }
    if (lt == std::string_view::npos) return;
    std::string_view rest = xml.substr(lt);
    if (rest.starts_with("<!--")) {
      std::size_t e = xml.find("-->", lt + 4);
      i = e == std::string_view::npos ? xml.size() : e + 3;
      continue;
    }
    if (rest.starts_with("<![CDATA[")) {
      std::size_t e = xml.find("]]>", lt + 9);
      std::size_t stop = e == std::string_view::npos ? xml.size() : e;
      handler.text(xml.substr(lt + 9, stop - lt - 9));
      i = e == std::string_view::npos ? xml.size() : e + 3;
      continue;
    }
    if (rest.starts_with("<?") || rest.starts_with("<!")) {
      std::size_t e = xml.find('>', lt);
      i = e == std::string_view::npos ? xml.size() : e + 1;
      continue;
    }
    // A tag: find its end, skipping '>' inside quoted attribute values.
    std::size_t j = lt + 1;
    char quote = 0;
    while (j < xml.size()) {
      char c = xml[j];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        break;
      }
      ++j;
    }
    if (j >= xml.size()) return;
    std::string_view tag = xml.substr(lt + 1, j - lt - 1);
    i = j + 1;
    if (tag.empty()) continue;
    if (tag[0] == '/') {
      std::string_view name = tag.substr(1);
      while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back())))
        name.remove_suffix(1);
      if (depth > 0) --depth;
      handler.end(name);
      continue;
    }
    bool empty = tag.back() == '/';
    if (empty) tag.remove_suffix(1);
    std::size_t name_end = 0;
    while (name_end < tag.size() && !std::isspace(static_cast<unsigned char>(tag[name_end])))
      ++name_end;
    std::string_view name = tag.substr(0, name_end);
    handler.start(name, tag.substr(name_end), empty);
    if (empty)
      handler.end(name);
    else
      ++depth;
  }
}

}  // namespace cordon::extract::detail
