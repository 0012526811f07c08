// Extractor: owns the libmagic handle, runs the walk for one attachment or
// for every attachment of a message, and turns extracted items into
// message components and policy facts (see extract.hpp).
#include <algorithm>

#include "extract/detail/budget.hpp"
#include "extract/detail/walker.hpp"
#include "extract/extract.hpp"

namespace cordon::extract {

struct Extractor::Impl {
  detail::MagicPtr magic;
  detail::MagicPtr quick;  // without the soft-magic tests; may be null
  detail::MagicSets sets() const { return {magic.get(), quick.get()}; }
};

Extractor::Extractor(std::unique_ptr<Impl> impl, const Limits& limits)
    : impl_(std::move(impl)), limits_(limits) {}
Extractor::~Extractor() = default;
Extractor::Extractor(Extractor&&) noexcept = default;
Extractor& Extractor::operator=(Extractor&&) noexcept = default;

Result<Extractor, Error> Extractor::create(const Limits& limits) {
  detail::MagicPtr magic(magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR));
  if (!magic) return fail(Error{ErrorCode::magic_unavailable, "magic_open failed"});
  if (magic_load(magic.get(), nullptr) != 0) {
    const char* e = magic_error(magic.get());
    return fail(Error{ErrorCode::magic_unavailable,
                      std::string("cannot load the libmagic database: ") + (e ? e : "?")});
  }
  auto impl = std::make_unique<Impl>();
  impl->magic = std::move(magic);
  // Only a faster path for prose: without it the full handle answers.
  detail::MagicPtr quick(magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_SOFT));
  if (quick && magic_load(quick.get(), nullptr) == 0) impl->quick = std::move(quick);
  return Extractor(std::move(impl), limits);
}

std::string Extractor::detect_type(std::string_view bytes) {
  // A walk that does not descend still refines zip-based types.
  Limits shallow = limits_;
  shallow.max_depth = 0;
  detail::Budget budget(shallow);
  detail::Walker walker(impl_->sets(), budget, "file");
  Extraction out;
  walker.visit("", "file", bytes, 0, out);
  return out.items.empty() ? detail::magic_type(impl_->sets(), bytes) : out.items.front().type;
}

Extraction Extractor::extract(std::string_view name, std::string_view bytes) {
  detail::Budget budget(limits_);
  detail::Walker walker(impl_->sets(), budget, std::string(name));
  Extraction out;
  walker.visit("", std::string(name), bytes, 0, out);
  out.limits = budget.take_hits();
  return out;
}

namespace {

std::string last_element(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string describe(const LimitHit& hit) {
  return "limit " + std::string(to_string(hit.kind)) + " reached in " + hit.where + ": " +
         hit.detail;
}

}  // namespace

Expansion Extractor::expand(mime::Message& message) {
  Expansion expansion;
  detail::Budget budget(limits_);
  std::vector<mime::Component> added;
  for (auto& c : message.components) {
    if (c.kind != mime::ComponentKind::attachment) continue;
    std::string name = c.filename.empty() ? last_element(c.name) : c.filename;
    if (c.data.empty()) {
      // An attached message: its parts are components of their own already.
      expansion.files.push_back(
          FileFacts{c.name, name, c.declared_type.empty() ? "application/x-empty" : c.declared_type,
                    c.size, false});
      continue;
    }
    if (budget.exhausted()) {
      message.problems.push_back({mime::ProblemKind::extraction_limit, c.name,
                                  c.name + " not inspected: an expansion limit was reached"});
      continue;
    }
    detail::Walker walker(impl_->sets(), budget, c.name);
    Extraction ex;
    walker.visit("", name, c.data, 0, ex);
    for (auto& item : ex.items) {
      std::string component = item.path.empty() ? c.name : c.name + "/" + item.path;
      expansion.files.push_back(
          FileFacts{component, item.name, item.type, item.size, item.encrypted});
      if (item.encrypted)
        message.problems.push_back(
            {mime::ProblemKind::encrypted, component,
             component + " is encrypted (password-protected) and cannot be inspected"});
      if (item.path.empty()) {
        // The MIME parser's text of a plain-text attachment honours the
        // declared charset; for every other format (RTF, HTML, documents
        // declared as text or octet-stream) the extracted text is the
        // one a reader sees.
        bool parser_text_is_better =
            c.is_text && !c.text.empty() && (item.text.empty() || item.type == "text/plain");
        if (!parser_text_is_better) {
          c.text = std::move(item.text);
          c.is_text = !c.text.empty();
        }
        continue;
      }
      mime::Component member;
      member.kind = mime::ComponentKind::attachment;
      member.name = std::move(component);
      member.filename = item.name;
      member.is_text = !item.text.empty();
      member.text = std::move(item.text);
      member.size = item.size;
      added.push_back(std::move(member));
    }
    for (auto& p : ex.problems) message.problems.push_back(std::move(p));
  }
  for (auto& m : added) message.components.push_back(std::move(m));
  expansion.limits = budget.take_hits();
  expansion.on_limit = limits_.on_limit;
  for (const auto& hit : expansion.limits)
    message.problems.push_back({mime::ProblemKind::extraction_limit, hit.where, describe(hit)});
  return expansion;
}

Expansion expand(mime::Message& message, const Limits& limits) {
  auto extractor = Extractor::create(limits);
  if (!extractor) {
    message.problems.push_back({mime::ProblemKind::extractor_unavailable, "attachments",
                                "attachments not extracted: " + extractor.error().detail});
    return {};
  }
  return extractor->expand(message);
}

}  // namespace cordon::extract
