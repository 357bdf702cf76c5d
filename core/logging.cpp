// Logger implementation: one global sink guarded by a mutex.
#include "core/logging.h"

#include <cstdio>
#include <mutex>

namespace gs {
namespace {
std::mutex g_mutex;
LogCallback g_callback;
LogLevel g_level = LogLevel::Info;

const char* prefix(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "[debug] ";
    case LogLevel::Info: return "";
    case LogLevel::Warn: return "warning: ";
    case LogLevel::Error: return "error: ";
  }
  return "";
}
}  // namespace

void set_log_callback(LogCallback callback) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_callback = std::move(callback);
}

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }

void log_message(LogLevel level, const std::string& message) {
  if (level < g_level) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_callback) {
    g_callback(level, message);
    return;
  }
  std::fprintf(stderr, "%s%s\n", prefix(level), message.c_str());
}

ScopedLogCapture::ScopedLogCapture() {
  set_log_callback([this](LogLevel level, const std::string& m) {
    if (level >= LogLevel::Warn) ++warnings_;
    text_ += m;
    text_ += '\n';
  });
}
ScopedLogCapture::~ScopedLogCapture() { set_log_callback(nullptr); }

}  // namespace gs
