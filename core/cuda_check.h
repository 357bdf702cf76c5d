// CUDA error checks for .cu files: throw gs::Error naming the call, file and line; the NOTHROW
// variant only logs (for destructors, which must never throw).
#pragma once

#include <cuda_runtime.h>

#include "core/errors.h"
#include "core/logging.h"

#define GS_CUDA_CHECK(call)                                                              \
  do {                                                                                   \
    cudaError_t gs_err_ = (call);                                                        \
    if (gs_err_ != cudaSuccess)                                                          \
      throw ::gs::Error(std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " + \
                        #call + " failed: " + cudaGetErrorString(gs_err_));              \
  } while (0)

#define GS_CUDA_CHECK_NOTHROW(call)                                                   \
  do {                                                                                \
    cudaError_t gs_err_ = (call);                                                     \
    if (gs_err_ != cudaSuccess)                                                       \
      ::gs::log_error(__FILE__, ":", __LINE__, ": ", #call,                           \
                      " failed: ", cudaGetErrorString(gs_err_));                      \
  } while (0)

// Checks the last kernel launch.
#define GS_CUDA_CHECK_LAUNCH() GS_CUDA_CHECK(cudaGetLastError())
