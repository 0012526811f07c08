// Internal to the console: the REST API's handlers (incidents, policies,
// stats, reload) and the JSON response helpers the server shares. Included
// only by console_*.cpp. cpp-httplib's configuration macros (TLS support)
// come from its pkg-config flags (console.cmake), the same ones the shared
// library was built with.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "incidents/store.hpp"
#include "roles/runtime.hpp"

namespace cordon::roles::console {

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
// {"error": message}
void send_error(httplib::Response& res, int status, std::string_view message);

class Api {
 public:
  Api(Shared& shared, incidents::IncidentStore& store) : shared_(shared), store_(store) {}

  void list_incidents(const httplib::Request& req, httplib::Response& res);
  void get_incident(httplib::Response& res, const std::string& id);
  void patch_incident(const httplib::Request& req, httplib::Response& res, const std::string& id,
                      const std::string& user);
  void policies(httplib::Response& res);
  void stats(const httplib::Request& req, httplib::Response& res);
  void reload(httplib::Response& res, const std::string& user);

 private:
  Shared& shared_;
  incidents::IncidentStore& store_;
};

}  // namespace cordon::roles::console
