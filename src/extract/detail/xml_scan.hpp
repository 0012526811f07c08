// A small, tolerant, streaming XML tag scanner for the document formats
// (Office Open XML, OpenDocument): start tags with their attribute text,
// end tags and decoded character data, in one linear pass. It does not
// validate; malformed markup degrades to text, never to an error.
#pragma once

#include <string>
#include <string_view>

namespace cordon::extract::detail {

class XmlHandler {
 public:
  virtual ~XmlHandler() = default;
  // `name` is the qualified name ("w:t"); `attributes` the raw text after it.
  virtual void start(std::string_view name, std::string_view attributes, bool empty) = 0;
  virtual void end(std::string_view name) = 0;
  virtual void text(std::string_view decoded) = 0;
};

void scan_xml(std::string_view xml, XmlHandler& handler);

// "w:t" -> "t".
std::string_view local_name(std::string_view qualified);

// The decoded value of attribute `name` (qualified, exact) in `attributes`,
// or empty.
std::string attribute(std::string_view attributes, std::string_view name);

// Appends `raw` with the five predefined entities and numeric character
// references decoded.
void decode_entities(std::string_view raw, std::string& out);

}  // namespace cordon::extract::detail
