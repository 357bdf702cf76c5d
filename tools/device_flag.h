// The --device flag of the tools that pick a compute device: checked while parsing, so a typo
// is a usage error (exit 2) before any file is read, not a runtime failure afterwards.
#pragma once

#include <string>

#include "tools/flags.h"

namespace gs::tools {

// The value of `name` (`fallback` when not given) if it is auto | cpu | cuda | cuda:N;
// UsageError otherwise. Whether that device exists is resolve_device's business, at run time.
std::string device_flag(const Flags& flags, const std::string& name = "--device",
                        const std::string& fallback = "auto");

}  // namespace gs::tools
