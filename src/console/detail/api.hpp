// Internal to the console: the REST API's handlers (incidents, policies,
// stats, reload) and the JSON response helpers the server shares. Included
// only by the console's own sources. cpp-httplib's configuration macros
// (TLS support) come from its pkg-config flags (CMakeLists.txt), the same
// ones the shared library was built with.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "console/console.hpp"

namespace cordon::console {

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
// {"error": message}
void send_error(httplib::Response& res, int status, std::string_view message);

class Api {
 public:
  explicit Api(Dependencies& deps) : deps_(deps), store_(*deps.store) {}

  void list_incidents(const httplib::Request& req, httplib::Response& res);
  void get_incident(httplib::Response& res, const std::string& id);
  void patch_incident(const httplib::Request& req, httplib::Response& res, const std::string& id,
                      const std::string& user);
  void policies(httplib::Response& res);
  void stats(const httplib::Request& req, httplib::Response& res);
  void reload(httplib::Response& res, const std::string& user);

 private:
  Dependencies& deps_;
  incidents::IncidentStore& store_;
};

}  // namespace cordon::console
