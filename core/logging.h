// A tiny logger with a replaceable sink, so tests can capture (or fail on) warnings.
#pragma once

#include <functional>
#include <sstream>
#include <string>

namespace gs {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };

using LogCallback = std::function<void(LogLevel, const std::string&)>;

// Replaces the sink (default: stderr with a level prefix). Pass nullptr to restore the default.
void set_log_callback(LogCallback callback);
// Messages below this level are dropped (default Info).
void set_log_level(LogLevel level);
LogLevel log_level();
void log_message(LogLevel level, const std::string& message);

template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream s;
  (s << ... << args);
  return s.str();
}

template <class... Args>
void log_debug(const Args&... args) {
  if (log_level() <= LogLevel::Debug) log_message(LogLevel::Debug, concat(args...));
}
template <class... Args>
void log_info(const Args&... args) {
  if (log_level() <= LogLevel::Info) log_message(LogLevel::Info, concat(args...));
}
template <class... Args>
void log_warn(const Args&... args) {
  log_message(LogLevel::Warn, concat(args...));
}
template <class... Args>
void log_error(const Args&... args) {
  log_message(LogLevel::Error, concat(args...));
}

// Captures log messages for the lifetime of the object (tests), restoring the default after.
class ScopedLogCapture {
 public:
  ScopedLogCapture();
  ~ScopedLogCapture();
  const std::string& text() const { return text_; }
  int warnings() const { return warnings_; }

 private:
  std::string text_;
  int warnings_ = 0;
};

}  // namespace gs
