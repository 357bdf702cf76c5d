// Typed errors: what failed, where, and what to do about it.
// Every user-facing failure is one of these; main() turns them into a message and exit code.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace gs {

// Base of every gstrain error. `hint` says what the user can do about it (may be empty).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, std::string hint = "")
      : std::runtime_error(what), hint_(std::move(hint)) {}
  const std::string& hint() const { return hint_; }

 private:
  std::string hint_;
};

// A configuration file or override is wrong (message names file, line, key).
class ConfigError : public Error {
 public:
  using Error::Error;
};

// A file could not be read/written or is malformed (message names the file and field).
class IoError : public Error {
 public:
  using Error::Error;
};

// The input data (a dataset folder or file) is missing or malformed; the message names the file
// and the field. gstrain exits 2 for it, as for a bad config: the user's input must change.
class DataError : public IoError {
 public:
  using IoError::IoError;
};

// Common base of "memory ran out", so recovery code can catch both the budget cap and a real
// device allocation failure with one handler.
class OutOfMemoryError : public Error {
 public:
  using Error::Error;
};

// An allocation would take the accounted bytes past the cap. Nothing was allocated.
class BudgetExceeded : public OutOfMemoryError {
 public:
  BudgetExceeded(const std::string& category, size_t requested_bytes, size_t in_use_bytes,
                 size_t budget_bytes);
  const std::string& category() const { return category_; }
  size_t requested_bytes() const { return requested_bytes_; }
  size_t in_use_bytes() const { return in_use_bytes_; }
  size_t budget_bytes() const { return budget_bytes_; }

 private:
  std::string category_;
  size_t requested_bytes_, in_use_bytes_, budget_bytes_;
};

// The device itself refused an allocation (cudaErrorMemoryAllocation, or an injected fault).
class DeviceOutOfMemory : public OutOfMemoryError {
 public:
  DeviceOutOfMemory(const std::string& category, size_t requested_bytes);
  size_t requested_bytes() const { return requested_bytes_; }

 private:
  size_t requested_bytes_;
};

// Training went wrong and cannot go on: NaN loss, an empty node, divergence. The message names
// the step and the last densify event; the last good checkpoint is left in place.
class TrainingFailed : public Error {
 public:
  using Error::Error;
};

// Formats a byte count for humans: "1.50 GiB", "12.0 MiB", "512 B".
std::string format_bytes(size_t bytes);

[[noreturn]] void throw_check_failed(const char* cond, const std::string& msg, const char* file,
                                     int line);

}  // namespace gs

// Internal invariant / argument check that throws gs::Error naming the file and line.
#define GS_CHECK(cond, msg)                                                   \
  do {                                                                        \
    if (!(cond)) ::gs::throw_check_failed(#cond, (msg), __FILE__, __LINE__); \
  } while (0)
