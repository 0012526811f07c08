// `cordon idm index --config FILE --profile NAME FILE_OR_DIR...`: builds an
// IDM profile's index (keyed fingerprints only) from documents in any
// format cordon extracts (text, PDF, Office, ODF, RTF, HTML, archives),
// directories walked recursively, creating the key file (0600) the first
// time. A file with no text to fingerprint is named and makes the exit
// status 1: the index would silently lack it otherwise.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/index_command.hpp"
#include "detect/idm.hpp"
#include "extract/extract.hpp"
#include "util/fs.hpp"

namespace cordon::cli {
namespace {

namespace fs = std::filesystem;

constexpr IndexCommandKind kKind{"idm", "IDM"};

struct IdmIndexArgs : IndexArgs {
  std::vector<std::string> inputs;
};

// The text of a file as cordon sees it in an attachment: every extracted
// item's text (an archive's members too). Empty with `why` when none.
std::string file_text(extract::Extractor& extractor, const fs::path& path, std::string& why) {
  auto bytes = util::read_file(path);
  if (!bytes) {
    why = bytes.error().message;
    return {};
  }
  auto extraction = extractor.extract(path.filename().string(), *bytes);
  std::string text;
  for (const auto& item : extraction.items) {
    if (item.encrypted) why = "encrypted";
    if (!item.text.empty()) (text += item.text) += '\n';
  }
  if (text.empty() && why.empty()) why = "no text extracted";
  return text;
}

int idm_index(const IdmIndexArgs& args) {
  auto config = read_index_config(args.config);
  if (!config) return 2;
  const auto& idm = config->idm;
  const policy::IdmProfile* profile = find_index_profile(idm, kKind, args);
  if (!profile) return 2;
  auto extractor = extract::Extractor::create(config->attachments);
  if (!extractor) {
    std::fprintf(stderr, "error: cannot start text extraction: %s\n",
                 extractor.error().detail.c_str());
    return 2;
  }
  auto key = index_key(detect::idm::load_or_create_key, kKind, idm.key_file);
  if (!key) return 2;
  auto start = std::chrono::steady_clock::now();

  int status = 0;
  std::vector<detect::idm::Document> documents;
  auto add = [&](const fs::path& path, std::string name) {
    std::string why;
    std::string t = file_text(*extractor, path, why);
    if (t.empty()) {
      std::fprintf(stderr, "skipped %s: %s\n", path.c_str(), why.c_str());
      status = 1;
      return;
    }
    documents.push_back({std::move(name), std::move(t)});
  };
  for (const auto& input : args.inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<fs::path> files;
      for (auto it = fs::recursive_directory_iterator(input, ec); !ec && it != fs::end(it);
           it.increment(ec))
        if (it->is_regular_file(ec)) files.push_back(it->path());
      if (ec) {
        std::fprintf(stderr, "error: cannot read the directory %s: %s\n", input.c_str(),
                     ec.message().c_str());
        return 2;
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) add(f, fs::relative(f, input, ec).string());
    } else if (fs::is_regular_file(input, ec)) {
      add(input, fs::path(input).filename().string());
    } else {
      std::fprintf(stderr, "error: %s is neither a file nor a directory\n", input.c_str());
      return 2;
    }
  }
  std::vector<std::string> boilerplate;
  for (const auto& b : profile->boilerplate) {
    std::string why;
    std::string t = file_text(*extractor, b, why);
    if (t.empty()) {
      std::fprintf(stderr, "error: boilerplate %s: %s\n", b.c_str(), why.c_str());
      return 2;
    }
    boilerplate.push_back(std::move(t));
  }
  auto stats =
      detect::idm::build_index(documents, boilerplate, profile->name, *key, profile->index);
  if (!stats) {
    std::fprintf(stderr, "error: %s\n", stats.error().message.c_str());
    return 2;
  }
  for (const auto& name : stats->empty) {
    std::fprintf(stderr, "skipped %s: too little text beyond the boilerplate\n", name.c_str());
    status = 1;
  }
  const double seconds = seconds_since(start);
  std::printf(
      "indexed %zu documents, %zu characters, %zu fingerprints (%zu boilerplate fingerprints "
      "left out) into %s: %zu bytes (%.3f per character) in %.1f s\n",
      stats->documents, stats->characters, stats->fingerprints, stats->boilerplate,
      profile->index.c_str(), stats->index_bytes,
      stats->characters
          ? static_cast<double>(stats->index_bytes) / static_cast<double>(stats->characters)
          : 0.0,
      seconds);
  return status;
}

}  // namespace

void add_idm_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<IdmIndexArgs>();
  auto* index = add_index_subcommand(
      app, kKind, "Indexed Document Matching: index confidential documents",
      "Build an IDM profile's index (keyed fingerprints only) from documents", *args);
  index->add_option("inputs", args->inputs, "documents, or directories of documents")->required();
  index->callback([&exit_code, args] { exit_code = idm_index(*args); });
}

}  // namespace cordon::cli
