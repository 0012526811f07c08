// mime::parse: splits the message (structure.cpp), then walks the entity
// tree turning it into components -- subject, one "header" component with
// the decoded content fields of the message and its parts (and attachment
// file names), "body" for each inline text part (and multipart preambles
// and epilogues), and "attachment:NAME" for everything else. An attached
// message becomes one component (its content fields and body text) and its
// own attachments are named "attachment:OUTER/INNER". Files uuencoded in
// text and message/partial fragments reassembled within the message become
// attachments of their own.
#include <algorithm>
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
constexpr std::size_t kMaxInlineFiles = 16;  // uuencoded files taken out of one text part

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

// Header fields that describe the message's structure, transport or
// authentication rather than carry what the sender wrote: MIME framing
// (boundaries, charsets, encodings -- the file name is scanned on its own),
// identifiers and dates, trace fields, signatures and seals, and the
// machine-written fields of the big mail services. Generated values in
// them (a Python boundary "===============<19 digits>==", a DKIM hash)
// would otherwise read as numbers. Everything else is content: Subject,
// From/To/Cc/Reply-To with their display names, Comments, Keywords,
// Organization, Content-Description, any other X- field.
bool is_structure_field(std::string_view name) {
  static constexpr std::string_view kExact[] = {"content-type",
                                                "content-transfer-encoding",
                                                "content-disposition",
                                                "content-id",
                                                "content-md5",
                                                "content-length",
                                                "content-location",
                                                "content-language",
                                                "mime-version",
                                                "message-id",
                                                "in-reply-to",
                                                "references",
                                                "resent-message-id",
                                                "date",
                                                "resent-date",
                                                "received",
                                                "x-received",
                                                "return-path",
                                                "received-spf",
                                                "authentication-results",
                                                "dkim-signature",
                                                "x-google-dkim-signature",
                                                "domainkey-signature",
                                                "x-gm-message-state",
                                                "x-gm-gg",
                                                "x-gm-features",
                                                "x-google-smtp-source",
                                                "x-forefront-antispam-report",
                                                "thread-index",
                                                "x-cordon-inspected",
                                                "list-id",
                                                "feedback-id",
                                                "x-feedback-id",
                                                "x-originating-ip"};
  static constexpr std::string_view kPrefixes[] = {
      "arc-", "x-ms-exchange-", "x-microsoft-antispam", "x-ms-", "x-mailgun-", "x-ses-"};
  for (std::string_view s : kExact)
    if (iequals(name, s)) return true;
  for (std::string_view p : kPrefixes)
    if (name.size() >= p.size() && iequals(name.substr(0, p.size()), p)) return true;
  return false;
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
      : limits_(limits),
        problems_(problems),
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
      header_index_ = msg_.components.size();
      push(make_component(ComponentKind::header, "header", header_block(root)));
    }
    walk(root, Scope{}, false);
    reassemble();
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
      if (!f.name.empty() && is_structure_field(f.name)) continue;
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

  // A header block quoted as text (text/rfc822-headers in a delivery
  // report) follows the rule of every header block: content fields only.
  std::string quoted_header_text(std::string_view text) {
    Entity quoted;
    std::size_t body = split_top_headers(text, quoted.fields);
    std::string out = header_block(quoted);
    if (body < text.size()) {
      std::string rest;
      sanitize_utf8(text.substr(body), rest);
      out.append(rest);
    }
    return out;
  }

  // The content fields of a part below the top level (Content-Description,
  // X- fields ...) and its decoded file name are text the sender chose: they
  // join the message's header component, or the text of the attached
  // message they belong to.
  void part_fields(const Entity& e, const Scope& scope, bool with_fields) {
    std::string text = with_fields ? header_block(e) : std::string();
    if (!e.content.filename.empty()) {
      std::string name;
      sanitize_utf8(e.content.filename, name);
      text.append("file name: ").append(name).push_back('\n');
    }
    if (text.empty()) return;
    std::size_t target = scope.owner != kNoOwner ? scope.owner : header_index_;
    if (target == kNoOwner) {
      header_index_ = msg_.components.size();
      push(make_component(ComponentKind::header, "header", std::move(text)));
      return;
    }
    charge(text.size());
    std::string& target_text = msg_.components[target].text;
    if (!target_text.empty() && !target_text.ends_with('\n')) target_text.push_back('\n');
    target_text.append(text);
  }

  // `part`: e is a MIME part whose own fields are not scanned elsewhere
  // (false for the message's root and an attached message's root).
  void walk(const Entity& e, const Scope& scope, bool part = true) {
    part_fields(e, scope, part);
    if (e.embedded) {
      attached_message(e, scope);
    } else if (!e.children.empty()) {
      if (e.content.subtype == "encrypted") {
        problems_.add(ProblemKind::encrypted, label(e),
                      "encrypted content in " + label(e) + " cannot be inspected");
      }
      hidden_text(e.preamble, scope);
      for (const Entity& child : e.children) walk(child, scope);
      hidden_text(e.epilogue, scope);
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
    walk(inner, Scope{scope.prefix + name + "/", index}, false);
  }

  void leaf(const Entity& e, const Scope& scope) {
    const ContentInfo& c = e.content;
    std::string decoded;
    DecodeReport report;
    // A 7bit/8bit/binary body within the budget is its own decoded form:
    // read in place rather than copied.
    const bool in_place = c.encoding == TransferEncoding::identity && e.body.size() <= budget_;
    if (!in_place) decode_transfer(e.body, c.encoding, budget_, decoded, report);
    const std::string_view data = in_place ? e.body : std::string_view(decoded);
    if (report.invalid_chars > 0) {
      problems_.add(ProblemKind::transfer_encoding, label(e),
                    std::string(encoding_name(c.encoding)) + " decoding errors in " + label(e) +
                        " (" + std::to_string(report.invalid_chars) +
                        " invalid characters skipped)");
    }
    if (report.incomplete) {
      problems_.add(ProblemKind::transfer_encoding, label(e),
                    std::string(encoding_name(c.encoding)) + " data in " + label(e) +
                        " is incomplete (truncated part?)");
    }
    if (report.truncated) limit_reached(e);
    // An unknown encoding decoded by its looks: what was written is
    // scanned as well, in case the looks deceived.
    if (c.encoding_guessed) hidden_text(e.body, scope);

    if (is_body_part(c)) {
      std::string text = to_text(data, c, e);
      if (c.subtype == "rfc822-headers") text = quoted_header_text(text);
      add_body(std::move(text), scope);
      for (Component& file : inline_uuencoded(data, e, scope)) push(std::move(file));
      return;
    }
    std::string name = sanitize_name(c.filename);
    Component comp = make_component(
        ComponentKind::attachment,
        "attachment:" + scope.prefix + (name.empty() ? generated_name(e) : name), {});
    comp.filename = c.filename;
    comp.declared_type = c.type();
    comp.is_text = is_text_attachment(c, data);
    if (c.is_partial()) {
      // A fragment is scanned as written whatever becomes of it.
      comp.is_text = true;
      fragment(e, data);
    }
    comp.size = data.size();
    if (comp.is_text) {
      // The text is converted while the data is held: leave room for both.
      std::size_t saved = budget_;
      charge(data.size());
      comp.text = to_text(data, c, e);
      if (c.subtype == "rfc822-headers") comp.text = quoted_header_text(comp.text);
      budget_ = saved;
    }
    std::vector<Component> files;
    if (comp.is_text) files = inline_uuencoded(data, e, scope);
    if (in_place)
      comp.data.assign(data);
    else
      comp.data = std::move(decoded);
    push(std::move(comp));
    for (Component& file : files) push(std::move(file));
  }

  // Files uuencoded inside text ("begin 644 NAME" ... "end") become
  // attachments of their own, so their content is decoded, typed and
  // expanded like any other attachment; the text is still scanned as written.
  std::vector<Component> inline_uuencoded(std::string_view data, const Entity& e,
                                          const Scope& scope) {
    std::vector<Component> files;
    if (e.content.encoding == TransferEncoding::uuencode) return files;
    bool more = false;
    std::vector<UuencodedBlock> blocks = find_uuencoded_blocks(data, kMaxInlineFiles, more);
    if (more) {
      problems_.add(ProblemKind::decode_error, label(e),
                    "more than " + std::to_string(kMaxInlineFiles) + " uuencoded files in " +
                        label(e) + "; the rest were scanned as written");
    }
    std::size_t index = 0;
    for (const UuencodedBlock& block : blocks) {
      ++index;
      std::string decoded;
      DecodeReport report;
      decode_transfer(block.encoded, TransferEncoding::uuencode, budget_, decoded, report);
      if (report.truncated) limit_reached(e);
      if (report.incomplete) {
        problems_.add(ProblemKind::transfer_encoding, label(e),
                      "uuencoded file in " + label(e) + " has no end line (truncated?)");
      }
      ContentInfo info;
      info.media_type = "application";
      info.subtype = "octet-stream";
      info.filename = block.name;
      std::string name = sanitize_name(block.name);
      if (name.empty()) name = generated_name(e) + "-uu" + std::to_string(index);
      Component comp =
          make_component(ComponentKind::attachment, "attachment:" + scope.prefix + name, {});
      comp.filename = block.name;
      comp.declared_type = info.type();
      comp.is_text = is_text_attachment(info, decoded);
      comp.size = decoded.size();
      if (comp.is_text) {
        std::size_t saved = budget_;
        charge(decoded.size());
        comp.text = to_text(decoded, info, e);
        budget_ = saved;
      }
      comp.data = std::move(decoded);
      files.push_back(std::move(comp));
    }
    return files;
  }

  std::string to_text(std::string_view data, const ContentInfo& c, const Entity& e) {
    bool html = c.subtype == "html" || c.subtype == "xhtml+xml";
    std::string charset = c.charset;
    if (html && charset.empty()) charset = html_meta_charset(data);
    Utf8Text converted = to_utf8(data, charset, budget_);
    if (converted.truncated) limit_reached(e);
    if (converted.replaced > 0) {
      problems_.add(ProblemKind::charset, label(e),
                    std::to_string(converted.replaced) + " invalid " + converted.charset_used +
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

  // A multipart's preamble or epilogue: scanned as body text, as written
  // (no transfer encoding or charset applies to it).
  void hidden_text(std::string_view raw, const Scope& scope) {
    if (std::all_of(raw.begin(), raw.end(),
                    [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }))
      return;
    std::string text;
    sanitize_utf8(raw.substr(0, std::min(raw.size(), budget_)), text);
    add_body(std::move(text), scope);
  }

  void limit_reached(const Entity& e) {
    if (limit_reported_) return;
    limit_reported_ = true;
    problems_.add(ProblemKind::decoded_size_limit, label(e),
                  "decoded size limit of " + std::to_string(max_decoded_) + " bytes reached in " +
                      label(e) + "; the rest was not inspected");
  }

  // A message/partial fragment, kept until every part has been seen.
  void fragment(const Entity& e, std::string_view data) {
    const ContentInfo& c = e.content;
    if (reassembling_) {
      problems_.add(ProblemKind::partial_message, label(e),
                    "message/partial fragment in " + label(e) +
                        " of a reassembled message is not reassembled again; scanned as written");
      return;
    }
    charge(data.size());
    fragments_.push_back(
        Fragment{c.partial_id, c.partial_number, c.partial_total, std::string(data), label(e)});
  }

  // RFC 2046 5.2.2: fragments of one id, numbered 1 to total, make one
  // message again (fragment 1 starts with its header). Fragments whose
  // siblings travel in other messages cannot be put together here: each was
  // scanned as written and the gap is recorded as a problem.
  void reassemble() {
    reassembling_ = true;
    std::vector<std::string> ids;
    for (const Fragment& f : fragments_)
      if (std::find(ids.begin(), ids.end(), f.id) == ids.end()) ids.push_back(f.id);
    std::size_t count = 0;
    for (const std::string& id : ids) {
      std::vector<const Fragment*> group;
      std::size_t total = 0;
      for (const Fragment& f : fragments_) {
        if (f.id != id) continue;
        group.push_back(&f);
        total = std::max(total, f.total);
      }
      std::stable_sort(group.begin(), group.end(),
                       [](const Fragment* a, const Fragment* b) { return a->number < b->number; });
      bool complete = !id.empty() && total > 0 && group.size() == total;
      for (std::size_t i = 0; complete && i < group.size(); ++i)
        complete = group[i]->number == i + 1;
      if (!complete) {
        std::string numbers;
        for (const Fragment* f : group)
          numbers += (numbers.empty() ? "" : ", ") +
                     (f->number > 0 ? std::to_string(f->number) : std::string("?"));
        std::string shown;
        sanitize_utf8(std::string_view(id).substr(0, 80), shown);
        problems_.add(ProblemKind::partial_message, group.front()->where,
                      "message/partial \"" + shown + "\": fragment(s) " + numbers + " of " +
                          (total > 0 ? std::to_string(total) : std::string("?")) + " (first in " +
                          group.front()->where +
                          ") cannot be reassembled, the rest are not in this message; "
                          "scanned as written");
        continue;
      }
      std::string whole;
      for (const Fragment* f : group) whole += f->data;
      EntityTree tree = split_entities(whole, limits_, problems_);
      std::string name = "reassembled-" + std::to_string(++count) + ".eml";
      std::size_t index = msg_.components.size();
      Component comp =
          make_component(ComponentKind::attachment, "attachment:" + name, header_block(tree.root));
      comp.declared_type = "message/partial";
      comp.size = whole.size();
      push(std::move(comp));
      walk(tree.root, Scope{name + "/", index}, false);
    }
    fragments_.clear();
  }

  struct Fragment {
    std::string id;
    std::size_t number = 0;
    std::size_t total = 0;
    std::string data;
    std::string where;
  };

  const Limits& limits_;
  ProblemLog& problems_;
  Message& msg_;
  std::size_t budget_;
  std::size_t max_decoded_;
  bool limit_reported_ = false;
  std::size_t header_index_ = kNoOwner;  // the top-level "header" component
  std::vector<Fragment> fragments_;
  bool reassembling_ = false;
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
