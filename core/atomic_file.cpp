#include "core/atomic_file.h"

#include <filesystem>
#include <fstream>

#include "core/errors.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

void remove_quietly(const std::string& file) {
  std::error_code ignored;
  fs::remove(file, ignored);
}

}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw IoError(path + ": cannot open " + tmp + " for writing",
                    "check that the directory exists and is writable");
    try {
      write(out);
      out.flush();
    } catch (...) {
      out.close();
      remove_quietly(tmp);
      throw;
    }
    if (!out) {
      out.close();
      remove_quietly(tmp);
      throw IoError(path + ": writing " + tmp + " failed (disk full?)",
                    "free disk space or choose another output path");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    remove_quietly(tmp);
    throw IoError(path + ": cannot rename " + tmp + " into place: " + ec.message(),
                  "check that the output directory is writable");
  }
}

void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, [&](std::ostream& out) { out << text; });
}

void write_file_atomic(const std::string& path, const void* data, size_t bytes) {
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  });
}

}  // namespace gs
