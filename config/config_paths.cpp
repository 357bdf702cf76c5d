// Finding a config by path or bare preset name ("omnire_12gb"), from any working directory.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "core/errors.h"
#include "config/config.h"
#include "config/config_reader.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

bool has_yaml_extension(const std::string& name) {
  const std::string ext = fs::path(name).extension().string();
  return ext == ".yaml" || ext == ".yml";
}

// Where presets live, in search order after the working directory: the source tree (a build
// that was never installed) and the installed share/gstrain/configs.
std::vector<fs::path> preset_dirs() {
  std::vector<fs::path> dirs;
#ifdef GSTRAIN_SOURCE_DIR
  dirs.push_back(fs::path(GSTRAIN_SOURCE_DIR) / "configs");
#endif
#ifdef GSTRAIN_INSTALL_CONFIG_DIR
  const fs::path installed(GSTRAIN_INSTALL_CONFIG_DIR);
  if (std::find(dirs.begin(), dirs.end(), installed) == dirs.end()) dirs.push_back(installed);
#endif
  return dirs;
}

std::vector<std::string> preset_names(const std::vector<fs::path>& dirs) {
  std::vector<std::string> names;
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() != ".yaml") continue;
      const std::string stem = it->path().stem().string();
      if (std::find(names.begin(), names.end(), stem) == names.end()) names.push_back(stem);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

std::string resolve_config_path(const std::string& name_or_path) {
  if (name_or_path.empty())
    throw ConfigError("no config given", "pass --config with a preset name (e.g. static_12gb) "
                                         "or a path to a YAML file");
  std::vector<std::string> file_names = {name_or_path};
  if (!has_yaml_extension(name_or_path)) file_names.push_back(name_or_path + ".yaml");

  std::vector<fs::path> candidates;
  for (const std::string& f : file_names) candidates.push_back(fs::absolute(f).lexically_normal());
  const std::vector<fs::path> dirs = preset_dirs();
  if (fs::path(name_or_path).is_relative())
    for (const fs::path& dir : dirs)
      for (const std::string& f : file_names) candidates.push_back((dir / f).lexically_normal());

  std::string searched;
  for (const fs::path& candidate : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
    searched += "\n  " + candidate.string();
  }

  const std::vector<std::string> presets = preset_names(dirs);
  std::string hint = "give a path to a YAML file or a preset name";
  if (!presets.empty()) {
    const std::string stem = fs::path(name_or_path).stem().string();
    hint += "; did you mean '" + config_detail::nearest(stem, presets) + "'? presets:";
    for (const std::string& p : presets) hint += " " + p;
  }
  throw ConfigError("config '" + name_or_path + "' not found; searched:" + searched, hint);
}

}  // namespace gs
