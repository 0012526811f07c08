# The console's build pieces in cordon_roles: cpp-httplib (Debian ships it as
# a shared library; its pkg-config flags enable TLS, and every translation
# unit must see the same flags), and the web UI (web/) embedded as a
# generated source, rebuilt whenever a file under web/ changes.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
target_link_libraries(cordon_roles PRIVATE PkgConfig::HTTPLIB)

set(console_web_dir ${PROJECT_SOURCE_DIR}/web)
file(GLOB_RECURSE console_web_files CONFIGURE_DEPENDS ${console_web_dir}/*)
list(FILTER console_web_files EXCLUDE REGEX "/(node_modules|\\.[^/]*)(/|$)")
set(console_assets_out ${CMAKE_CURRENT_BINARY_DIR}/console_assets_data.cpp)
add_custom_command(
  OUTPUT ${console_assets_out}
  COMMAND ${CMAKE_COMMAND} -DWEB_DIR=${console_web_dir} -DOUT=${console_assets_out}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/console/console_embed.cmake
  DEPENDS ${console_web_files} ${CMAKE_CURRENT_SOURCE_DIR}/console/console_embed.cmake
  COMMENT "Embedding the console web UI"
  VERBATIM)
target_sources(cordon_roles PRIVATE ${console_assets_out})
