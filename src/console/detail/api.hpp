// Internal to the console: the REST API's handlers (incidents, policies,
// stats, reload) and the JSON response helpers the server shares. Included
// only by the console's own sources. cpp-httplib's configuration macros
// (TLS support) come from its pkg-config flags (CMakeLists.txt), the same
// ones the shared library was built with.
#pragma once

#include <httplib.h>

#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "console/console.hpp"

namespace cordon::console {

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
// {"error": message}
void send_error(httplib::Response& res, int status, std::string_view message);

class Api {
 public:
  explicit Api(Dependencies& deps) : deps_(deps), store_(*deps.store) {}

  void list_incidents(const httplib::Request& req, httplib::Response& res);
  // The content preview (headers, preview) only with `content`, the admin
  // role; without it the reply says content_hidden.
  void get_incident(httplib::Response& res, const std::string& id, bool content);
  void patch_incident(const httplib::Request& req, httplib::Response& res, const std::string& id,
                      const std::string& user);
  void export_csv(const httplib::Request& req, httplib::Response& res);
  void bulk_change(const httplib::Request& req, httplib::Response& res, const std::string& user);
  void assignees(httplib::Response& res);
  void list_filters(httplib::Response& res, const std::string& user);
  void put_filter(const httplib::Request& req, httplib::Response& res, const std::string& user,
                  const std::string& name);
  void delete_filter(httplib::Response& res, const std::string& user, const std::string& name);
  void list_users(httplib::Response& res);
  void create_user(const httplib::Request& req, httplib::Response& res, const std::string& by);
  void patch_user(const httplib::Request& req, httplib::Response& res, const std::string& name,
                  const std::string& by);
  void delete_user(httplib::Response& res, const std::string& name, const std::string& by);
  void policies(httplib::Response& res);
  void stats(const httplib::Request& req, httplib::Response& res);
  void reload(httplib::Response& res, const std::string& user);
  // operations.cpp: the gateway's queue and the server's health.
  void queue_list(httplib::Response& res);
  // verb: hold | release | delete | flush (id unused)
  void queue_action(httplib::Response& res, const std::string& verb, const std::string& id,
                    const std::string& user);
  void health(httplib::Response& res);

 private:
  // Validates a change body ({status, assignee, comment}); the error text
  // for a 400 otherwise.
  struct ChangeRequest {
    std::optional<incidents::IncidentStatus> status;
    std::optional<std::string> assignee;
    std::string comment;
  };
  Result<ChangeRequest, std::string> parse_change(const nlohmann::json& body,
                                                  std::initializer_list<const char*> extra);
  // Applies one change after checking the workflow: 0 when done, else the
  // HTTP status and message of the refusal.
  std::pair<int, std::string> apply_change(incidents::IncidentId id, const ChangeRequest& change,
                                           const std::string& user);

  // The data_dir when it holds a queue; nullopt: no queue (yet).
  std::optional<std::filesystem::path> queue_data_dir();

  Dependencies& deps_;
  incidents::IncidentStore& store_;
};

}  // namespace cordon::console
