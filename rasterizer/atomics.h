// Atomic adds usable from a kernel body on either backend: CUDA atomicAdd on the device, an
// OpenMP atomic on the host.
#pragma once

#include "core/hd.h"

namespace gs::rmath {

template <class T>
GS_HD inline void atomic_add(T* p, T v) {
#if defined(__CUDA_ARCH__)
  atomicAdd(p, v);
#else
// Without OpenMP (e.g. the host pass of a .cu file) host loops are serial, so a plain add is
// exact.
#ifdef _OPENMP
#pragma omp atomic
#endif
  *p += v;
#endif
}

}  // namespace gs::rmath
