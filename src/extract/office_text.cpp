// XML-to-text for the parts of Office Open XML and OpenDocument files (see
// office.hpp). Line and cell structure is kept so that neighbouring values
// never run together into one longer number.
#include <charconv>
#include <string>
#include <vector>

#include "extract/detail/office.hpp"
#include "extract/detail/xml_scan.hpp"

namespace cordon::extract::detail {
namespace {

bool is_one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (name == n) return true;
  return false;
}

// Paragraphs end lines, tabs and table cells become tabs. Text inside
// element kinds that hold no reader-visible text (phonetic runs) is dropped.
class DocumentText : public XmlHandler {
 public:
  explicit DocumentText(bool odf) : odf_(odf) {}
  std::string out;

  void start(std::string_view qname, std::string_view attributes, bool) override {
    std::string_view name = local_name(qname);
    if (name == "tab") {
      out += '\t';
    } else if (is_one_of(name, {"br", "cr", "line-break"})) {
      out += '\n';
    } else if (odf_ && name == "s") {
      std::string count = attribute(attributes, "text:c");
      std::size_t n = 1;
      std::from_chars(count.data(), count.data() + count.size(), n);
      out.append(std::min<std::size_t>(n, 64), ' ');
    } else if (name == "rPh") {
      ++skip_;
    }
  }
  void end(std::string_view qname) override {
    std::string_view name = local_name(qname);
    if (is_one_of(name, {"p", "h", "tr", "table-row", "row"})) {
      if (!out.empty() && out.back() != '\n') out += '\n';
    } else if (is_one_of(name, {"tc", "table-cell"})) {
      out += '\t';
    } else if (name == "rPh" && skip_ > 0) {
      --skip_;
    }
  }
  void text(std::string_view t) override {
    if (skip_ == 0) out.append(t);
  }

 private:
  bool odf_;
  int skip_ = 0;
};

class SharedStrings : public XmlHandler {
 public:
  std::vector<std::string> strings;

  void start(std::string_view qname, std::string_view, bool) override {
    std::string_view name = local_name(qname);
    if (name == "si") {
      in_si_ = true;
      current_.clear();
    } else if (name == "t") {
      in_t_ = true;
    } else if (name == "rPh") {
      in_phonetic_ = true;
    }
  }
  void end(std::string_view qname) override {
    std::string_view name = local_name(qname);
    if (name == "si") {
      strings.push_back(std::move(current_));
      current_.clear();
      in_si_ = false;
    } else if (name == "t") {
      in_t_ = false;
    } else if (name == "rPh") {
      in_phonetic_ = false;
    }
  }
  void text(std::string_view t) override {
    if (in_si_ && in_t_ && !in_phonetic_) current_.append(t);
  }

 private:
  std::string current_;
  bool in_si_ = false, in_t_ = false, in_phonetic_ = false;
};

// <row><c t="s|inlineStr|str|b|n|e"><v>..</v><is><t>..</t></is></c></row>
class SheetText : public XmlHandler {
 public:
  explicit SheetText(const std::vector<std::string>& shared) : shared_(shared) {}
  std::string out;

  void start(std::string_view qname, std::string_view attributes, bool) override {
    std::string_view name = local_name(qname);
    if (name == "c") {
      cell_type_ = attribute(attributes, "t");
      value_.clear();
      in_cell_ = true;
    } else if (name == "v" || name == "t") {
      collecting_ = in_cell_;
    } else if (name == "f") {
      in_formula_ = true;
    }
  }
  void end(std::string_view qname) override {
    std::string_view name = local_name(qname);
    if (name == "v" || name == "t") {
      collecting_ = false;
    } else if (name == "f") {
      in_formula_ = false;
    } else if (name == "c") {
      emit_cell();
      in_cell_ = false;
    } else if (name == "row") {
      if (!out.empty() && out.back() != '\n') out += '\n';
      first_in_row_ = true;
    }
  }
  void text(std::string_view t) override {
    if (collecting_ && !in_formula_) value_.append(t);
  }

 private:
  void emit_cell() {
    if (value_.empty()) return;
    if (!first_in_row_) out += '\t';
    first_in_row_ = false;
    if (cell_type_ == "s") {
      std::size_t index = 0;
      auto [p, ec] = std::from_chars(value_.data(), value_.data() + value_.size(), index);
      if (ec == std::errc() && index < shared_.size()) {
        out += shared_[index];
        return;
      }
    }
    out += value_;
  }

  const std::vector<std::string>& shared_;
  std::string cell_type_, value_;
  bool in_cell_ = false, collecting_ = false, in_formula_ = false, first_in_row_ = true;
};

}  // namespace

std::string ooxml_part_text(std::string_view xml) {
  DocumentText h(false);
  scan_xml(xml, h);
  return std::move(h.out);
}

std::vector<std::string> xlsx_shared_strings(std::string_view xml) {
  SharedStrings h;
  scan_xml(xml, h);
  return std::move(h.strings);
}

std::string xlsx_sheet_text(std::string_view xml, const std::vector<std::string>& shared) {
  SheetText h(shared);
  scan_xml(xml, h);
  return std::move(h.out);
}

std::string odf_content_text(std::string_view xml) {
  DocumentText h(true);
  scan_xml(xml, h);
  return std::move(h.out);
}

}  // namespace cordon::extract::detail
