// GS_HD marks math that is written once and compiled for both backends:
// __host__ __device__ under nvcc, plain inline functions under the host compiler.
#pragma once

#if defined(__CUDACC__)
#define GS_HD __host__ __device__
#define GS_HOST_ONLY __host__
#else
#define GS_HD
#define GS_HOST_ONLY
#endif
