// The operator action records of `cordon queue` (see operator_actions.hpp).
#include "queue/operator_actions.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <system_error>

#include "util/fs.hpp"
#include "util/random.hpp"

namespace cordon::queue {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDir = "actions";
constexpr std::string_view kSuffix = ".json";

std::int64_t to_millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

Status<std::string> record_operator_action(const fs::path& queue_root,
                                           const OperatorAction& action) {
  const fs::path dir = queue_root / kDir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail("create " + dir.string() + ": " + ec.message());
  nlohmann::json j = {{"action", action.action},
                      {"id", action.id},
                      {"count", action.count},
                      {"time_ms", to_millis(action.time)}};
  // Named by time first, so that a listing sorted by name is in order.
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%016lld", static_cast<long long>(to_millis(action.time)));
  const std::string name = std::string(stamp) + "-" + util::random_hex(8) + std::string(kSuffix);
  auto written = util::atomic_replace(dir, name, j.dump() + "\n");
  if (!written) return fail(written.error().message);
  return Ok{};
}

std::vector<OperatorAction> take_operator_actions(const fs::path& queue_root) {
  const fs::path dir = queue_root / kDir;
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > kSuffix.size() && name.ends_with(kSuffix) &&
        !name.starts_with(util::kTempMarker))
      files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::vector<OperatorAction> out;
  for (const auto& path : files) {
    auto text = util::read_file(path);
    OperatorAction a;
    a.action = "unreadable";
    a.id = path.filename().string();
    if (text) {
      auto j = nlohmann::json::parse(*text, nullptr, false);
      if (j.is_object() && j.value("action", "").size() > 0) {
        a.action = j.value("action", "");
        a.id = j.value("id", "");
        a.count = j.value("count", std::size_t{0});
        a.time = TimePoint(std::chrono::milliseconds(j.value("time_ms", std::int64_t{0})));
      }
    }
    fs::remove(path, ec);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace cordon::queue
