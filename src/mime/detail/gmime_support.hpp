// GMime plumbing for the MIME component: one-time library initialisation,
// RAII owners for GObject references and g_malloc'd strings, and the shared
// parser options used by every header/parameter decoding call.
//
// GMime keeps process-wide state (charset tables, iconv cache, the default
// options) that g_mime_init() builds. It must run exactly once, before any
// other GMime call, from whichever thread parses first; gmime_options() does
// that through std::call_once. cordon never calls g_mime_shutdown(): other
// threads may still be parsing when the process exits.
#pragma once

#include <gmime/gmime.h>

#include <memory>
#include <string>
#include <string_view>

namespace cordon::mime::detail {

struct GObjectUnref {
  void operator()(gpointer object) const {
    if (object != nullptr) g_object_unref(object);
  }
};
template <class T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

struct GFree {
  void operator()(gpointer p) const { g_free(p); }
};
using GCharPtr = std::unique_ptr<gchar, GFree>;

// Parser options built once after g_mime_init() and never modified: RFC 2047
// and RFC 2231 decoding in loose mode, raw 8-bit header text interpreted as
// UTF-8 when valid, else Windows-1252. Safe to share between threads because
// GMime only reads them.
GMimeParserOptions* gmime_options();

// GMime takes NUL-terminated strings; NUL bytes inside untrusted header text
// would silently cut it short, so they become spaces.
std::string to_c_string(std::string_view text);

}  // namespace cordon::mime::detail
