// One-time GMime initialisation and the shared, read-only parser options.
#include "mime/detail/gmime_support.hpp"

#include <mutex>

namespace cordon::mime::detail {

namespace {

// Owns the options for the life of the process; created under call_once and
// read-only afterwards.
// GMimeParserOptions is a boxed type, not a GObject: it has its own free.
struct OptionsFree {
  void operator()(GMimeParserOptions* options) const { g_mime_parser_options_free(options); }
};

struct GmimeState {
  std::unique_ptr<GMimeParserOptions, OptionsFree> options;
};

GmimeState& state() {
  static std::once_flag once;
  static GmimeState s;
  std::call_once(once, [] {
    g_mime_init();
    s.options.reset(g_mime_parser_options_new());
    const char* fallback[] = {"UTF-8", "windows-1252", nullptr};
    g_mime_parser_options_set_fallback_charsets(s.options.get(), fallback);
    g_mime_parser_options_set_rfc2047_compliance_mode(s.options.get(), GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(s.options.get(),
                                                        GMIME_RFC_COMPLIANCE_LOOSE);
  });
  return s;
}

}  // namespace

GMimeParserOptions* gmime_options() {
  return state().options.get();
}

std::string to_c_string(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\0') c = ' ';
  }
  return out;
}

}  // namespace cordon::mime::detail
