// Writing a file so that readers see either the old content or the whole new one: the bytes go
// to `<path>.tmp`, which is renamed over `path` only once everything was written and flushed.
// When anything fails (cannot open, disk full, rename refused, or the writer throws) the
// temporary file is removed and a gs::IoError names the file and what to do; `path` is left as
// it was. The one helper for every output of gstrain (configs, metrics, PLY, PNG, checkpoints,
// generated datasets).
#pragma once

#include <cstddef>
#include <functional>
#include <ostream>
#include <string>

namespace gs {

// Calls `write` with a binary stream on the temporary file, then renames it into place.
// `write` may throw; stream failures (e.g. ENOSPC) are detected after it returns.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

// The common cases: text or bytes.
void write_file_atomic(const std::string& path, const std::string& text);
void write_file_atomic(const std::string& path, const void* data, size_t bytes);

}  // namespace gs
