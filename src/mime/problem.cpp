// Kinds of inspection problems: their names for reports, their words for
// replies, and which of them leave content unread (see mime.hpp).
#include "mime/mime.hpp"

namespace cordon::mime {

std::string_view to_string(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::mime_depth:
      return "mime_depth";
    case ProblemKind::mime_parts:
      return "mime_parts";
    case ProblemKind::mime_boundary:
      return "mime_boundary";
    case ProblemKind::header_limit:
      return "header_limit";
    case ProblemKind::decoded_size_limit:
      return "decoded_size_limit";
    case ProblemKind::encrypted:
      return "encrypted";
    case ProblemKind::partial_message:
      return "partial_message";
    case ProblemKind::decode_error:
      return "decode_error";
    case ProblemKind::extraction_limit:
      return "extraction_limit";
    case ProblemKind::extractor_unavailable:
      return "extractor_unavailable";
    case ProblemKind::malformed:
      return "malformed";
    case ProblemKind::transfer_encoding:
      return "transfer_encoding";
    case ProblemKind::charset:
      return "charset";
  }
  return "unknown";
}

std::string_view describe(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::mime_depth:
      return "nested too deeply";
    case ProblemKind::mime_parts:
      return "too many parts";
    case ProblemKind::mime_boundary:
      return "unreadable multipart structure";
    case ProblemKind::header_limit:
      return "headers too large";
    case ProblemKind::decoded_size_limit:
      return "too large";
    case ProblemKind::encrypted:
      return "encrypted";
    case ProblemKind::partial_message:
      return "only a fragment of a split message";
    case ProblemKind::decode_error:
      return "unreadable";
    case ProblemKind::extraction_limit:
      return "past an extraction limit";
    case ProblemKind::extractor_unavailable:
      return "attachments not extracted";
    case ProblemKind::malformed:
      return "malformed";
    case ProblemKind::transfer_encoding:
      return "damaged encoding";
    case ProblemKind::charset:
      return "invalid characters";
  }
  return "unreadable";
}

bool is_unscannable(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::malformed:
    case ProblemKind::transfer_encoding:
    case ProblemKind::charset:
      return false;
    default:
      // A kind added later counts as unscannable until someone decides otherwise.
      return true;
  }
}

std::vector<std::string> problem_texts(std::span<const Problem> problems) {
  std::vector<std::string> out;
  out.reserve(problems.size());
  for (const auto& p : problems) out.push_back(p.detail);
  return out;
}

}  // namespace cordon::mime
