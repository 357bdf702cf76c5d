// The checked --device flag (see device_flag.h).
#include "tools/device_flag.h"

namespace gs::tools {

std::string device_flag(const Flags& flags, const std::string& name, const std::string& fallback) {
  const std::string v = flags.value(name, fallback);
  if (v == "auto" || v == "cpu" || v == "cuda") return v;
  if (v.rfind("cuda:", 0) == 0 && v.size() > 5 &&
      v.find_first_not_of("0123456789", 5) == std::string::npos)
    return v;
  throw UsageError(name + " '" + v + "': expected auto, cpu, cuda or cuda:N");
}

}  // namespace gs::tools
