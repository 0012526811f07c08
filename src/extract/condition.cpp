// Attachment conditions of policies, evaluated on the facts extraction
// found (true type, name, size, encryption); see extract.hpp.
#include <algorithm>
#include <cctype>

#include "extract/extract.hpp"

namespace cordon::extract {

bool glob_match(std::string_view glob, std::string_view text) {
  // Iterative matching with one backtrack point: linear in practice and
  // never exponential, whatever the pattern.
  std::size_t g = 0, t = 0, star = std::string_view::npos, resume = 0;
  auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  while (t < text.size()) {
    if (g < glob.size() && (glob[g] == '?' || (glob[g] != '*' && same(glob[g], text[t])))) {
      ++g;
      ++t;
    } else if (g < glob.size() && glob[g] == '*') {
      star = g++;
      resume = t;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

bool FileCondition::matches(const FileFacts& file) const {
  auto any = [](const std::vector<std::string>& globs, std::string_view value) {
    return globs.empty() || std::any_of(globs.begin(), globs.end(),
                                        [&](const std::string& g) { return glob_match(g, value); });
  };
  return any(types, file.type) && any(names, file.name) && file.size >= min_size &&
         (!encrypted_only || file.encrypted);
}

std::string FileCondition::describe() const {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : ",") + part; };
  for (const auto& t : types) add("type=" + t);
  for (const auto& n : names) add("name=" + n);
  if (min_size > 0) add("min_size=" + std::to_string(min_size));
  if (encrypted_only) add("encrypted");
  return "attachment:" + (out.empty() ? std::string("any") : out);
}

}  // namespace cordon::extract
