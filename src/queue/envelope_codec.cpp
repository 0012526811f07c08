// Envelope <-> JSON. Times are RFC 3339 strings so that an operator can
// read an envelope file directly.
#include "queue/detail/envelope_codec.hpp"

#include <nlohmann/json.hpp>

#include "queue/time_format.hpp"
#include "util/base64.hpp"

namespace cordon::queue {
namespace {

using nlohmann::json;

// Version of the envelope layout, so that a later layout can still read
// (or knowingly refuse) an older spool.
constexpr int kEnvelopeVersion = 1;

// Thrown only inside this file and turned into an error value below.
struct DecodeError {
  std::string reason;
};

const json& field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) throw DecodeError{std::string("missing field '") + name + "'"};
  return *it;
}

std::string string_field(const json& object, const char* name) {
  const json& v = field(object, name);
  if (!v.is_string()) throw DecodeError{std::string("field '") + name + "' is not a string"};
  return v.get<std::string>();
}

bool bool_field(const json& object, const char* name) {
  const json& v = field(object, name);
  if (!v.is_boolean()) throw DecodeError{std::string("field '") + name + "' is not a boolean"};
  return v.get<bool>();
}

// Fields added after version 1 was first written: absent in older spools.
std::string optional_string_field(const json& object, const char* name) {
  return object.contains(name) ? string_field(object, name) : std::string();
}

bool optional_bool_field(const json& object, const char* name) {
  return object.contains(name) && bool_field(object, name);
}

std::int64_t int_field(const json& object, const char* name) {
  const json& v = field(object, name);
  if (!v.is_number_integer())
    throw DecodeError{std::string("field '") + name + "' is not an integer"};
  return v.get<std::int64_t>();
}

TimePoint time_field(const json& object, const char* name) {
  auto t = parse_rfc3339(string_field(object, name));
  if (!t) throw DecodeError{std::string("field '") + name + "' is not an RFC 3339 time"};
  return *t;
}

const json& array_field(const json& object, const char* name) {
  const json& v = field(object, name);
  if (!v.is_array()) throw DecodeError{std::string("field '") + name + "' is not an array"};
  return v;
}

const json& object_field(const json& object, const char* name) {
  const json& v = field(object, name);
  if (!v.is_object()) throw DecodeError{std::string("field '") + name + "' is not an object"};
  return v;
}

Envelope decode(const json& doc) {
  if (!doc.is_object()) throw DecodeError{"envelope is not a JSON object"};
  if (int_field(doc, "version") != kEnvelopeVersion) throw DecodeError{"unknown envelope version"};
  Envelope e;
  e.sender = string_field(doc, "sender");
  for (const json& r : array_field(doc, "recipients")) {
    if (!r.is_object()) throw DecodeError{"recipient is not an object"};
    Recipient rcpt;
    rcpt.address = string_field(r, "address");
    rcpt.orcpt = string_field(r, "orcpt");
    rcpt.notify = string_field(r, "notify");
    auto state = recipient_state_from_string(string_field(r, "state"));
    if (!state) throw DecodeError{"unknown recipient state"};
    rcpt.state = *state;
    rcpt.last_reply = string_field(r, "last_reply");
    rcpt.status = optional_string_field(r, "status");
    rcpt.remote_mta = optional_string_field(r, "remote_mta");
    rcpt.dsn_owed = optional_bool_field(r, "dsn_owed");
    e.recipients.push_back(std::move(rcpt));
  }
  if (e.recipients.empty()) throw DecodeError{"envelope has no recipients"};
  const json& p = object_field(doc, "params");
  if (p.contains("size") && !p["size"].is_null()) {
    if (!p["size"].is_number_unsigned())
      throw DecodeError{"field 'size' is not an unsigned integer"};
    e.params.size = p["size"].get<std::uint64_t>();
  }
  e.params.body = string_field(p, "body");
  e.params.ret = string_field(p, "ret");
  e.params.envid = string_field(p, "envid");
  e.params.smtputf8 = bool_field(p, "smtputf8");
  const json& c = object_field(doc, "client");
  e.client.address = string_field(c, "address");
  e.client.hostname = string_field(c, "hostname");
  e.client.helo = string_field(c, "helo");
  e.arrival = time_field(doc, "arrival");
  e.attempts = static_cast<int>(int_field(doc, "attempts"));
  e.next_attempt = time_field(doc, "next_attempt");
  for (const json& t : array_field(doc, "trace")) {
    if (!t.is_object()) throw DecodeError{"trace event is not an object"};
    e.trace.push_back({time_field(t, "time"), string_field(t, "event"), string_field(t, "detail")});
  }
  const json& f = object_field(doc, "flags");
  e.flags.inspected = bool_field(f, "inspected");
  e.flags.bypassed = bool_field(f, "bypassed");
  e.flags.dlp_resubmitted = bool_field(f, "dlp_resubmitted");
  e.flags.delay_warning_sent = bool_field(f, "delay_warning_sent");
  e.flags.dsn_headers_only = optional_bool_field(f, "dsn_headers_only");
  std::int64_t size = int_field(doc, "content_size");
  if (size < 0) throw DecodeError{"negative content_size"};
  e.content_size = static_cast<std::uint64_t>(size);
  e.content_sha256 = optional_string_field(doc, "content_sha256");
  if (!e.content_sha256.empty() &&
      (e.content_sha256.size() != 64 ||
       e.content_sha256.find_first_not_of("0123456789abcdef") != std::string::npos))
    throw DecodeError{"field 'content_sha256' is not a SHA-256 in lower-case hex"};
  if (auto prefix = optional_string_field(doc, "content_prefix_base64"); !prefix.empty()) {
    auto bytes = util::base64_decode(prefix);
    if (!bytes) throw DecodeError{"field 'content_prefix_base64' is not base64"};
    e.content_prefix = std::move(*bytes);
  }
  return e;
}

}  // namespace

std::string_view to_string(RecipientState state) {
  switch (state) {
    case RecipientState::pending:
      return "pending";
    case RecipientState::delivered:
      return "delivered";
    case RecipientState::failed:
      return "failed";
  }
  return "pending";
}

std::optional<RecipientState> recipient_state_from_string(std::string_view text) {
  if (text == "pending") return RecipientState::pending;
  if (text == "delivered") return RecipientState::delivered;
  if (text == "failed") return RecipientState::failed;
  return std::nullopt;
}

std::string encode_envelope(const Envelope& e) {
  json recipients = json::array();
  for (const auto& r : e.recipients)
    recipients.push_back({{"address", r.address},
                          {"orcpt", r.orcpt},
                          {"notify", r.notify},
                          {"state", std::string(to_string(r.state))},
                          {"last_reply", r.last_reply},
                          {"status", r.status},
                          {"remote_mta", r.remote_mta},
                          {"dsn_owed", r.dsn_owed}});
  json trace = json::array();
  for (const auto& t : e.trace)
    trace.push_back({{"time", format_rfc3339(t.time)}, {"event", t.event}, {"detail", t.detail}});
  json params = {{"size", nullptr},
                 {"body", e.params.body},
                 {"ret", e.params.ret},
                 {"envid", e.params.envid},
                 {"smtputf8", e.params.smtputf8}};
  if (e.params.size) params["size"] = *e.params.size;
  json doc = {
      {"version", kEnvelopeVersion},
      {"sender", e.sender},
      {"recipients", std::move(recipients)},
      {"params", std::move(params)},
      {"client",
       {{"address", e.client.address}, {"hostname", e.client.hostname}, {"helo", e.client.helo}}},
      {"arrival", format_rfc3339(e.arrival)},
      {"attempts", e.attempts},
      {"next_attempt", format_rfc3339(e.next_attempt)},
      {"trace", std::move(trace)},
      {"flags",
       {{"inspected", e.flags.inspected},
        {"bypassed", e.flags.bypassed},
        {"dlp_resubmitted", e.flags.dlp_resubmitted},
        {"delay_warning_sent", e.flags.delay_warning_sent},
        {"dsn_headers_only", e.flags.dsn_headers_only}}},
      {"content_size", e.content_size},
  };
  // Absent rather than empty when unknown, as in the envelopes of versions
  // that did not record it.
  if (!e.content_sha256.empty()) doc["content_sha256"] = e.content_sha256;
  // Base64: header bytes need not be UTF-8, and JSON strings must be.
  if (!e.content_prefix.empty())
    doc["content_prefix_base64"] = util::base64_encode(e.content_prefix);
  // Invalid UTF-8 (an 8-bit address from a sloppy client) is replaced
  // rather than thrown: the message must still be queued.
  return doc.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

namespace {

// Parses `text` and decodes it with `decode_doc`; DecodeError and JSON
// errors become the error value.
template <class T, class F>
Result<T, std::string> decoded(std::string_view text, F decode_doc) {
  try {
    return decode_doc(json::parse(text));
  } catch (const DecodeError& e) {
    return fail(e.reason);
  } catch (const json::exception& e) {
    return fail(std::string("invalid JSON: ") + e.what());
  }
}

}  // namespace

Result<Envelope, std::string> decode_envelope(std::string_view text) {
  return decoded<Envelope>(text, [](const json& doc) { return decode(doc); });
}

std::string encode_quarantine_record(const QuarantineRecord& r) {
  json doc = {{"reason", std::string(to_string(r.damage))},
              {"from", r.from},
              {"detail", r.detail},
              {"time", format_rfc3339(r.time)}};
  return doc.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<QuarantineRecord, std::string> decode_quarantine_record(std::string_view text) {
  return decoded<QuarantineRecord>(text, [](const json& doc) {
    if (!doc.is_object()) throw DecodeError{"not a JSON object"};
    QuarantineRecord r;
    auto damage = damage_from_string(string_field(doc, "reason"));
    if (!damage) throw DecodeError{"unknown reason"};
    r.damage = *damage;
    r.from = string_field(doc, "from");
    r.detail = string_field(doc, "detail");
    r.time = time_field(doc, "time");
    return r;
  });
}

}  // namespace cordon::queue
