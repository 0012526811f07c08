// The data_dir that `cordon incidents` and `cordon queue` read: taken from
// --config (or the embedded default) without compiling policies, and
// required to exist. A relative data_dir is relative to the directory the
// command runs in, so run from elsewhere it names a directory that is not
// there: that is an error naming the path, never "no incidents" or "queue
// is empty".
#pragma once

#include <string>

#include "util/result.hpp"

namespace cordon::cli {

// The data_dir of `config_path` (empty: the embedded default); the error
// text (without a "cordon:" prefix) when the configuration does not parse
// or the directory does not exist.
Result<std::string, std::string> existing_data_dir(const std::string& config_path);

// Where `cordon incidents` reads: the data_dir and the `incidents:` setting.
// With the SQLite store the data_dir must exist, as above; with a
// postgresql:// URL it is not needed.
struct StoreSetting {
  std::string data_dir;
  std::string incidents;
};
Result<StoreSetting, std::string> store_setting(const std::string& config_path);

}  // namespace cordon::cli
