// Host APIs templated on the scalar (float for training, double for gradient tests) decide here
// whether a call goes to the CUDA backend: true on a CUDA device; an Error naming the call for
// what CUDA cannot run (double precision, or a build without CUDA).
#pragma once

#include <string>
#include <type_traits>

#include "core/device.h"
#include "core/errors.h"

namespace gs {

template <class T>
bool runs_on_cuda(const Device& device, const char* what) {
  if (!device.is_cuda()) return false;
#ifdef GSTRAIN_WITH_CUDA
  if (!std::is_same<T, float>::value)
    throw Error(std::string(what) + ": CUDA runs it in float only", "use the CPU for double");
  return true;
#else
  throw Error(std::string(what) + " on " + device.name() + ": gstrain was built without CUDA",
              "use the CPU device or rebuild with CUDA");
#endif
}

}  // namespace gs
