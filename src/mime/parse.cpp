// mime::parse: splits the message (structure.cpp), then walks the entity
// tree turning it into components -- subject, one "header" component with
// the decoded top-level header block, "body" for each inline text part, and
// "attachment:NAME" for everything else. An attached message becomes one
// component (its headers and body text) and its own attachments are named
// "attachment:OUTER/INNER".
#include <limits>
#include <new>

#include "mime/charset.hpp"
#include "mime/classify.hpp"
#include "mime/detail/entity.hpp"
#include "mime/detail/gmime_support.hpp"
#include "mime/html_text.hpp"
#include "mime/mime.hpp"

namespace cordon::mime {

namespace {

using namespace detail;

constexpr std::size_t kNoOwner = std::numeric_limits<std::size_t>::max();

std::string label(const Entity& e) {
  return e.part_id.empty() ? std::string("the message body") : "part " + e.part_id;
}

const char* encoding_name(TransferEncoding enc) {
  switch (enc) {
    case TransferEncoding::base64:
      return "base64";
    case TransferEncoding::quoted_printable:
      return "quoted-printable";
    case TransferEncoding::uuencode:
      return "uuencode";
    case TransferEncoding::identity:
      break;
  }
  return "8bit";
}

bool is_ascii_without_encoded_words(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return s.find("=?") == std::string_view::npos;
}

// RFC 2047 decoding of an unstructured or address header value.
std::string decode_header_value(std::string_view raw) {
  std::string c_string = to_c_string(unfold(raw));
  if (is_ascii_without_encoded_words(c_string)) return c_string;
  GCharPtr decoded(g_mime_utils_header_decode_text(gmime_options(), c_string.c_str()));
  std::string out;
  sanitize_utf8(decoded ? std::string_view(decoded.get()) : std::string_view(c_string), out);
  return out;
}

Component make_component(ComponentKind kind, std::string name, std::string text) {
  Component c;
  c.kind = kind;
  c.name = std::move(name);
  c.text = std::move(text);
  return c;
}

const RawField* find_field(const Entity& e, std::string_view name) {
  for (const RawField& f : e.fields) {
    if (iequals(f.name, name)) return &f;
  }
  return nullptr;
}

class Builder {
 public:
  Builder(const Limits& limits, ProblemLog& problems, Message& msg)
      : problems_(problems),
        msg_(msg),
        budget_(limits.max_decoded_bytes),
        max_decoded_(limits.max_decoded_bytes) {}

  void build(const EntityTree& tree) {
    const Entity& root = tree.root;
    for (const RawField& f : root.fields) {
      if (f.name.empty()) continue;
      msg_.headers.push_back(Header{std::string(f.name), decode_header_value(f.value)});
    }
    for (const Header& h : msg_.headers) {
      if (msg_.subject.empty() && iequals(h.name, "subject")) msg_.subject = h.value;
      if (msg_.from.empty() && iequals(h.name, "from")) msg_.from = h.value;
      if (msg_.message_id.empty() && iequals(h.name, "message-id")) {
        std::string id = h.value;
        if (id.starts_with('<')) id.erase(0, 1);
        if (id.ends_with('>')) id.pop_back();
        msg_.message_id = id;
      }
    }
    if (find_field(root, "subject") != nullptr) {
      push(make_component(ComponentKind::subject, "subject", msg_.subject));
    }
    if (!root.fields.empty()) {
      push(make_component(ComponentKind::header, "header", header_block(root)));
    }
    walk(root, Scope{});
  }

 private:
  struct Scope {
    std::string prefix;            // "" at top level, "fwd.eml/" inside an attached message
    std::size_t owner = kNoOwner;  // the attached message's component, which collects body text
  };

  // Every decoded byte kept in a component counts against max_decoded_bytes.
  void push(Component c) {
    charge(c.text.size() + c.data.size());
    msg_.components.push_back(std::move(c));
  }

  void charge(std::size_t n) { budget_ -= std::min(budget_, n); }

  std::string header_block(const Entity& e) {
    std::string text;
    for (const RawField& f : e.fields) {
      if (!f.name.empty()) {
        text.append(f.name);
        text.append(": ");
        text.append(decode_header_value(f.value));
      } else {
        std::string raw;
        sanitize_utf8(f.value, raw);
        text.append(raw);
      }
      text.push_back('\n');
    }
    return text;
  }

  void walk(const Entity& e, const Scope& scope) {
    if (e.embedded) {
      attached_message(e, scope);
    } else if (!e.children.empty()) {
      if (e.content.subtype == "encrypted") {
        problems_.add(ProblemKind::encrypted, label(e), "encrypted content in " + label(e) + " cannot be inspected");
      }
      for (const Entity& child : e.children) walk(child, scope);
    } else {
      leaf(e, scope);
    }
  }

  void attached_message(const Entity& e, const Scope& scope) {
    const Entity& inner = *e.embedded;
    std::string name = sanitize_name(e.content.filename);
    if (name.empty()) {
      const RawField* subject = find_field(inner, "subject");
      std::string s = subject ? sanitize_name(decode_header_value(subject->value)) : std::string();
      name = s.empty() ? std::string("forwarded.eml") : s + ".eml";
    }
    std::size_t index = msg_.components.size();
    Component comp = make_component(ComponentKind::attachment, "attachment:" + scope.prefix + name,
                                    header_block(inner));
    comp.filename = e.content.filename;
    comp.declared_type = e.content.type();
    comp.size = e.raw_size;
    push(std::move(comp));
    walk(inner, Scope{scope.prefix + name + "/", index});
  }

  void leaf(const Entity& e, const Scope& scope) {
    const ContentInfo& c = e.content;
    std::string data;
    DecodeReport report;
    decode_transfer(e.body, c.encoding, budget_, data, report);
    if (report.invalid_chars > 0) {
      problems_.add(ProblemKind::transfer_encoding, label(e), std::string(encoding_name(c.encoding)) + " decoding errors in " + label(e) +
                    " (" + std::to_string(report.invalid_chars) + " invalid characters skipped)");
    }
    if (report.incomplete) {
      problems_.add(ProblemKind::transfer_encoding, label(e), std::string(encoding_name(c.encoding)) + " data in " + label(e) +
                    " is incomplete (truncated part?)");
    }
    if (report.truncated) limit_reached(e);

    if (is_body_part(c)) {
      std::string text = to_text(data, c, e);
      add_body(std::move(text), scope);
      return;
    }
    std::string name = sanitize_name(c.filename);
    Component comp = make_component(
        ComponentKind::attachment,
        "attachment:" + scope.prefix + (name.empty() ? generated_name(e) : name), {});
    comp.filename = c.filename;
    comp.declared_type = c.type();
    comp.is_text = is_text_attachment(c, data);
    comp.size = data.size();
    if (comp.is_text) {
      // The text is converted while the data is held: leave room for both.
      std::size_t saved = budget_;
      charge(data.size());
      comp.text = to_text(data, c, e);
      budget_ = saved;
    }
    comp.data = std::move(data);
    push(std::move(comp));
  }

  std::string to_text(std::string_view data, const ContentInfo& c, const Entity& e) {
    bool html = c.subtype == "html" || c.subtype == "xhtml+xml";
    std::string charset = c.charset;
    if (html && charset.empty()) charset = html_meta_charset(data);
    Utf8Text converted = to_utf8(data, charset, budget_);
    if (converted.truncated) limit_reached(e);
    if (converted.replaced > 0) {
      problems_.add(ProblemKind::charset, label(e), std::to_string(converted.replaced) + " invalid " + converted.charset_used +
                    " sequence(s) in " + label(e) + " replaced");
    }
    if (html) return html_to_text(converted.text);
    return std::move(converted.text);
  }

  void add_body(std::string text, const Scope& scope) {
    if (scope.owner == kNoOwner) {
      push(make_component(ComponentKind::body, "body", std::move(text)));
      return;
    }
    charge(text.size());
    std::string& owner_text = msg_.components[scope.owner].text;
    if (!owner_text.empty() && !text.empty()) owner_text.append("\n");
    owner_text.append(text);
  }

  void limit_reached(const Entity& e) {
    if (limit_reported_) return;
    limit_reported_ = true;
    problems_.add(ProblemKind::decoded_size_limit, label(e), "decoded size limit of " + std::to_string(max_decoded_) + " bytes reached in " +
                  label(e) + "; the rest was not inspected");
  }

  ProblemLog& problems_;
  Message& msg_;
  std::size_t budget_;
  std::size_t max_decoded_;
  bool limit_reported_ = false;
};

}  // namespace

Result<Message, ParseError> parse(std::string_view bytes, const Limits& limits) {
  if (bytes.empty()) return fail(ParseError{ParseErrorCode::empty_input, "empty message"});
  try {
    Message msg;
    ProblemLog problems(msg.problems);
    EntityTree tree = split_entities(bytes, limits, problems);
    Builder(limits, problems, msg).build(tree);
    problems.finish();
    return msg;
  } catch (const std::bad_alloc&) {
    return fail(ParseError{ParseErrorCode::internal, "out of memory while parsing"});
  } catch (const std::exception& e) {
    return fail(ParseError{ParseErrorCode::internal, e.what()});
  }
}

}  // namespace cordon::mime
