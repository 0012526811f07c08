// Splits a message into its MIME entity tree in one forward pass.
//
// Why not GMime's parser: it checks every "--" line against every open
// boundary up to a nesting of 1024, so a 15 MB message with 1024 nested
// multiparts and many "--" lines took 18 s to parse -- long enough for the
// gateway's DLP session to time out and bypass inspection. Here nesting is
// capped at Limits::max_depth while splitting, so each "--" line is compared
// with at most max_depth boundaries and recursion depth stays bounded.
// GMime still does the fiddly field-level work (Content-Type/-Disposition
// parameters with RFC 2231 continuations and charsets, RFC 2047).
#include <algorithm>
#include <limits>
#include <string>

#include "mime/detail/entity.hpp"
#include "mime/detail/gmime_support.hpp"

namespace cordon::mime::detail {

namespace {

// Recursion is two frames per nesting level; this keeps the stack small
// even when a caller configures a huge max_depth.
constexpr std::size_t kHardMaxDepth = 256;
constexpr std::size_t kMaxBoundaryLength = 200;
constexpr std::size_t kMaxContentFieldsPastLimit = 16;

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return r;
}

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

bool valid_field_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return c > ' ' && c < 127 && c != ':'; });
}

std::string label(const Entity& e) {
  return e.part_id.empty() ? std::string("the message") : "part " + e.part_id;
}

// A decimal parameter value up to a million; 0 when absent or not one.
std::size_t small_number(const char* v) {
  if (v == nullptr || *v == '\0') return 0;
  std::size_t n = 0;
  for (; *v != '\0'; ++v) {
    if (*v < '0' || *v > '9' || n > 1000000) return 0;
    n = n * 10 + static_cast<std::size_t>(*v - '0');
  }
  return n;
}

void make_text_leaf(Entity& e) {
  e.content.media_type = "text";
  e.content.subtype = "plain";
  e.content.charset.clear();
  e.content.encoding = TransferEncoding::identity;
  e.content.encoding_unknown = false;
  e.content.encoding_guessed = false;
}

class Splitter {
 public:
  Splitter(const Limits& limits, ProblemLog& problems, EntityTree& tree)
      : limits_(limits),
        max_depth_(std::min<std::size_t>(limits.max_depth, kHardMaxDepth)),
        problems_(problems),
        tree_(tree) {}

  void split(std::string_view message) {
    buf_ = message;
    parse_entity(0, tree_.root, 0, false, true);
  }

  // The top-level header block only, into tree_.root.fields; returns where
  // the body starts.
  std::size_t split_top_headers(std::string_view message) {
    buf_ = message;
    bool cut;
    return parse_headers(0, tree_.root, true, cut);
  }

 private:
  struct Line {
    std::size_t start, end, next;  // end excludes the line break
  };

  Line line_at(std::size_t pos) const {
    std::size_t nl = buf_.find('\n', pos);
    if (nl == std::string_view::npos) return {pos, buf_.size(), buf_.size()};
    std::size_t end = nl > pos && buf_[nl - 1] == '\r' ? nl - 1 : nl;
    return {pos, end, nl + 1};
  }

  // Index into stack_ of the boundary whose delimiter line starts at pos,
  // innermost first; -1 if none.
  int delimiter_at(std::size_t pos, bool& close) const {
    close = false;
    if (buf_.substr(pos, 2) != "--") return -1;
    Line ln = line_at(pos);
    std::string_view line = buf_.substr(ln.start, ln.end - ln.start);
    for (std::size_t k = stack_.size(); k-- > 0;) {
      std::string_view b = stack_[k];
      if (line.size() < 2 + b.size() || line.compare(2, b.size(), b) != 0) continue;
      std::string_view rest = line.substr(2 + b.size());
      bool is_close = rest.substr(0, 2) == "--";
      if (is_close) rest.remove_prefix(2);
      if (!is_blank(rest)) continue;
      close = is_close;
      return static_cast<int>(k);
    }
    return -1;
  }

  // Start of the first delimiter line at or after line start `pos`, or the
  // end of the buffer.
  std::size_t find_delimiter(std::size_t pos) const {
    if (stack_.empty()) return buf_.size();
    bool close;
    if (pos < buf_.size() && delimiter_at(pos, close) >= 0) return pos;
    while (true) {
      std::size_t hit = buf_.find("\n--", pos);
      if (hit == std::string_view::npos) return buf_.size();
      pos = hit + 1;
      if (delimiter_at(pos, close) >= 0) return pos;
    }
  }

  // The line break before a delimiter belongs to the delimiter.
  std::string_view body_between(std::size_t from, std::size_t to) const {
    if (to < buf_.size() && to > from) {
      --to;  // '\n'
      if (to > from && buf_[to - 1] == '\r') --to;
    }
    return buf_.substr(from, to > from ? to - from : 0);
  }

  // Reads the header block at pos. Returns where the body starts; sets
  // `cut_by_delimiter` when a boundary line ended the headers (no body).
  std::size_t parse_headers(std::size_t pos, Entity& e, bool top, bool& cut_by_delimiter) {
    cut_by_delimiter = false;
    std::size_t used = 0;
    bool over_limit = false;
    bool last_extendable = false;
    std::size_t malformed = 0;
    std::size_t content_fields_past_limit = 0;
    bool first = true;
    while (pos < buf_.size()) {
      Line ln = line_at(pos);
      std::string_view line = buf_.substr(ln.start, ln.end - ln.start);
      if (line.empty()) {
        pos = ln.next;
        break;
      }
      bool close;
      if (line[0] == '-' && !stack_.empty() && delimiter_at(pos, close) >= 0) {
        cut_by_delimiter = true;
        break;
      }
      std::size_t room = limits_.max_header_bytes > used ? limits_.max_header_bytes - used : 0;
      used += line.size() + 1;
      bool fits = line.size() + 1 <= room;
      if ((line[0] == ' ' || line[0] == '\t') && !e.fields.empty() && last_extendable) {
        RawField& f = e.fields.back();
        std::size_t keep = std::min(ln.end - static_cast<std::size_t>(f.value.data() - buf_.data()),
                                    f.value.size() + room);
        f.value = std::string_view(f.value.data(), keep);
        last_extendable = fits;
      } else if (first && top && line.starts_with("From ")) {
        // mbox separator line, not a header
      } else {
        std::size_t colon = line.find(':');
        std::string_view name =
            colon == std::string_view::npos ? std::string_view{} : line.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
        bool valid = colon != std::string_view::npos && valid_field_name(name);
        if (!valid) ++malformed;
        RawField field{valid ? name : std::string_view{}, valid ? line.substr(colon + 1) : line};
        if (room > 0) {
          if (!fits)
            field.value = field.value.substr(0, room > name.size() ? room - name.size() : 0);
          e.fields.push_back(field);
          last_extendable = fits;
        } else if (valid && content_fields_past_limit < kMaxContentFieldsPastLimit &&
                   lower(name.substr(0, 8)) == "content-") {
          // Past the limit the structure must still be understood.
          ++content_fields_past_limit;
          e.fields.push_back(field);
          last_extendable = true;
        } else {
          last_extendable = false;
        }
      }
      if (used > limits_.max_header_bytes && !over_limit) {
        over_limit = true;
        problems_.add("header limit of " + std::to_string(limits_.max_header_bytes) +
                      " bytes reached in " + label(e) + "; later header text was not inspected");
      }
      first = false;
      pos = ln.next;
    }
    if (malformed > 0) {
      problems_.add(std::to_string(malformed) + " header line(s) without a colon in " + label(e) +
                    " (kept as header text)");
    }
    return pos;
  }

  void content_info(Entity& e, bool digest_child) {
    ContentInfo& c = e.content;
    if (digest_child) {
      c.media_type = "message";
      c.subtype = "rfc822";
    }
    bool have_type = false, have_encoding = false, have_disposition = false;
    GMimeParserOptions* options = gmime_options();
    for (const RawField& f : e.fields) {
      if (f.name.empty()) continue;
      if (!have_type && iequals(f.name, "content-type")) {
        have_type = true;
        std::string value = to_c_string(unfold(f.value));
        GObjectPtr<GMimeContentType> ct(g_mime_content_type_parse(options, value.c_str()));
        if (!ct) continue;
        c.media_type = lower(g_mime_content_type_get_media_type(ct.get()));
        c.subtype = lower(g_mime_content_type_get_media_subtype(ct.get()));
        c.type_declared = true;
        if (c.media_type == "application" && c.subtype == "octet-stream" &&
            !lower(value).starts_with("application/octet-stream")) {
          problems_.add("invalid Content-Type in " + label(e) +
                        ", read as application/octet-stream");
        }
        if (const char* v = g_mime_content_type_get_parameter(ct.get(), "charset")) c.charset = v;
        if (const char* v = g_mime_content_type_get_parameter(ct.get(), "boundary")) c.boundary = v;
        if (const char* v = g_mime_content_type_get_parameter(ct.get(), "name")) {
          if (c.filename.empty()) c.filename = v;
        }
        if (c.is_partial()) {
          if (const char* v = g_mime_content_type_get_parameter(ct.get(), "id")) c.partial_id = v;
          c.partial_number = small_number(g_mime_content_type_get_parameter(ct.get(), "number"));
          c.partial_total = small_number(g_mime_content_type_get_parameter(ct.get(), "total"));
        }
      } else if (!have_encoding && iequals(f.name, "content-transfer-encoding")) {
        have_encoding = true;
        bool known = true;
        c.encoding = transfer_encoding_from_name(unfold(f.value), known);
        c.encoding_unknown = !known;
      } else if (!have_disposition && iequals(f.name, "content-disposition")) {
        have_disposition = true;
        std::string value = to_c_string(unfold(f.value));
        GObjectPtr<GMimeContentDisposition> cd(
            g_mime_content_disposition_parse(options, value.c_str()));
        if (!cd) continue;
        if (const char* v = g_mime_content_disposition_get_disposition(cd.get())) {
          c.disposition = lower(v);
        }
        // The disposition's file name wins over Content-Type's name.
        if (const char* v = g_mime_content_disposition_get_parameter(cd.get(), "filename")) {
          if (*v != '\0') c.filename = v;
        }
      }
    }
  }

  // Parses the entity at line start `pos`. Returns where it stopped: the
  // start of a delimiter line of an enclosing multipart, or the end.
  std::size_t parse_entity(std::size_t pos, Entity& e, std::size_t depth, bool digest_child,
                           bool top) {
    bool cut;
    pos = parse_headers(pos, e, top, cut);
    content_info(e, digest_child);
    if (cut) return pos;
    ContentInfo& c = e.content;
    if (c.is_multipart() || c.is_message()) {
      if (c.encoding_unknown) {
        problems_.add("unknown Content-Transfer-Encoding in " + label(e) + ", read as 8bit");
        c.encoding_unknown = false;
      }
      if (depth >= max_depth_) {
        problems_.add("mime depth limit " + std::to_string(max_depth_) + " reached at " + label(e) +
                      "; its content was read as plain text");
        make_text_leaf(e);
      } else if (c.is_multipart() &&
                 (c.boundary.empty() || c.boundary.size() > kMaxBoundaryLength)) {
        problems_.add("multipart without a usable boundary in " + label(e) +
                      "; its content was read as plain text");
        make_text_leaf(e);
      } else if (c.is_multipart()) {
        return parse_multipart(pos, e, depth);
      } else {
        return parse_message(pos, e, depth);
      }
    }
    std::size_t end = find_delimiter(pos);
    e.body = body_between(pos, end);
    e.raw_size = e.body.size();
    if (c.encoding_unknown) unknown_encoding(e);
    return end;
  }

  // Content that is plainly base64 or quoted-printable under an encoding
  // name cordon does not know is decoded as such (and scanned as written
  // too, see parse.cpp).
  void unknown_encoding(Entity& e) {
    ContentInfo& c = e.content;
    c.encoding = guess_transfer_encoding(e.body);
    c.encoding_guessed = c.encoding != TransferEncoding::identity;
    const char* read_as = c.encoding == TransferEncoding::base64 ? "base64 and as written"
                          : c.encoding == TransferEncoding::quoted_printable
                              ? "quoted-printable and as written"
                              : "8bit";
    problems_.add("unknown Content-Transfer-Encoding in " + label(e) + ", read as " + read_as);
  }

  std::size_t parse_message(std::size_t pos, Entity& e, std::size_t depth) {
    e.embedded = std::make_unique<Entity>();
    e.embedded->part_id = e.part_id;
    if (e.content.encoding == TransferEncoding::identity) {
      std::size_t end = parse_entity(pos, *e.embedded, depth + 1, false, false);
      e.raw_size = end - pos;
      return end;
    }
    // An encoded message/rfc822 (not allowed, but sent): decode, then split
    // the decoded copy on its own.
    std::size_t end = find_delimiter(pos);
    std::string_view encoded = body_between(pos, end);
    std::string& decoded = tree_.buffers.emplace_back();
    DecodeReport report;
    decode_transfer(encoded, e.content.encoding, limits_.max_decoded_bytes, decoded, report);
    e.raw_size = decoded.size();
    std::string_view saved_buf = buf_;
    std::vector<std::string_view> saved_stack;
    saved_stack.swap(stack_);
    buf_ = decoded;
    parse_entity(0, *e.embedded, depth + 1, false, false);
    buf_ = saved_buf;
    stack_.swap(saved_stack);
    return end;
  }

  std::size_t parse_multipart(std::size_t pos, Entity& e, std::size_t depth) {
    stack_.push_back(e.content.boundary);
    const int own = static_cast<int>(stack_.size() - 1);
    const std::string prefix = e.part_id.empty() ? "" : e.part_id + ".";
    const bool digest = e.content.subtype == "digest";
    bool close = false;
    std::size_t d = find_delimiter(pos);
    int which = d < buf_.size() ? delimiter_at(d, close) : -1;
    if (which != own || close) {
      stack_.pop_back();
      problems_.add("no part delimited by the boundary of " + label(e) +
                    "; its content was read as plain text");
      make_text_leaf(e);
      e.body = body_between(pos, d);
      e.raw_size = e.body.size();
      return d;
    }
    // Readers do not show the preamble and epilogue, so data hides there.
    e.preamble = body_between(pos, d);
    std::size_t index = 0;
    bool limit_reported = false;
    while (true) {
      pos = line_at(d).next;
      e.children.emplace_back();
      Entity& child = e.children.back();
      child.part_id = prefix + std::to_string(++index);
      if (parts_ >= limits_.max_parts) {
        // Past the part limit the remaining parts are kept together as
        // raw text: nothing is parsed, but plain content is still scanned.
        if (!limit_reported) {
          problems_.add("mime part limit " + std::to_string(limits_.max_parts) +
                        " reached at part " + child.part_id + "; the rest of " + label(e) +
                        " was read as plain text");
          limit_reported = true;
        }
        std::size_t scan = pos;
        while (true) {
          d = find_delimiter(scan);
          if (d >= buf_.size() || delimiter_at(d, close) != own || close) break;
          scan = line_at(d).next;
        }
        make_text_leaf(child);
        child.body = body_between(pos, d);
        child.raw_size = child.body.size();
      } else {
        ++parts_;
        d = parse_entity(pos, child, depth + 1, digest, false);
      }
      if (d >= buf_.size()) {
        problems_.add("missing closing boundary of " + label(e) + " (truncated message?)");
        break;
      }
      which = delimiter_at(d, close);
      if (which == own && !close) continue;
      if (which == own && close) {
        stack_.pop_back();
        std::size_t epilogue = line_at(d).next;
        std::size_t end = find_delimiter(epilogue);
        e.epilogue = body_between(epilogue, end);
        return end;
      }
      problems_.add("missing closing boundary of " + label(e));
      break;
    }
    stack_.pop_back();
    return d;
  }

  const Limits& limits_;
  std::size_t max_depth_;
  ProblemLog& problems_;
  EntityTree& tree_;
  std::string_view buf_;
  std::vector<std::string_view> stack_;
  std::size_t parts_ = 0;
};

}  // namespace

void ProblemLog::add(std::string problem) {
  if (sink_.size() < kMaxProblems) {
    sink_.push_back(std::move(problem));
  } else {
    ++dropped_;
  }
}

void ProblemLog::finish() {
  if (dropped_ > 0) sink_.push_back(std::to_string(dropped_) + " more problem(s) not listed");
  dropped_ = 0;
}

std::string unfold(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
  std::size_t b = out.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  std::size_t e = out.find_last_not_of(" \t");
  return out.substr(b, e - b + 1);
}

EntityTree split_entities(std::string_view message, const Limits& limits, ProblemLog& problems) {
  EntityTree tree;
  Splitter(limits, problems, tree).split(message);
  return tree;
}

std::size_t split_top_headers(std::string_view message, std::vector<RawField>& fields) {
  Limits unlimited;
  unlimited.max_header_bytes = std::numeric_limits<std::size_t>::max();
  std::vector<std::string> ignored;
  ProblemLog problems(ignored);
  EntityTree tree;
  std::size_t body = Splitter(unlimited, problems, tree).split_top_headers(message);
  fields = std::move(tree.root.fields);
  return body;
}

}  // namespace cordon::mime::detail
