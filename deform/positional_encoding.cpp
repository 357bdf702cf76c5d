#include "deform/positional_encoding.h"

#include <cmath>
#include <cstdint>

#include "core/errors.h"

namespace gs {

namespace {
void check(const PositionalEncoding& enc) {
  GS_CHECK(enc.input_dim > 0, "positional encoding: input_dim must be positive");
  GS_CHECK(enc.num_freqs >= 0, "positional encoding: num_freqs must be non-negative");
}
}  // namespace

template <class T>
void positional_encoding_forward(const PositionalEncoding& enc, const T* p, size_t n, T* out) {
  check(enc);
  const int D = enc.input_dim, L = enc.num_freqs, O = enc.output_dim();
  const int raw = enc.include_input ? D : 0;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
    const T* pi = p + i * D;
    T* oi = out + i * O;
    for (int d = 0; d < raw; ++d) oi[d] = pi[d];
    for (int k = 0; k < L; ++k) {
      // 2^k·s in double, then rounded once: the same frequency for float and double builds.
      const T f = static_cast<T>(std::ldexp(enc.scale, k));
      T* s = oi + raw + 2 * k * D;
      for (int d = 0; d < D; ++d) {
        s[d] = std::sin(f * pi[d]);
        s[D + d] = std::cos(f * pi[d]);
      }
    }
  }
}

template <class T>
void positional_encoding_backward(const PositionalEncoding& enc, const T* p, size_t n,
                                  const T* d_gamma, T* d_p, bool accumulate) {
  check(enc);
  const int D = enc.input_dim, L = enc.num_freqs, O = enc.output_dim();
  const int raw = enc.include_input ? D : 0;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
    const T* pi = p + i * D;
    const T* gi = d_gamma + i * O;
    T* dpi = d_p + i * D;
    for (int d = 0; d < D; ++d) {
      T g = raw ? gi[d] : T(0);
      for (int k = 0; k < L; ++k) {
        const T f = static_cast<T>(std::ldexp(enc.scale, k));
        const T* s = gi + raw + 2 * k * D;
        // d sin(f p)/dp = f cos(f p); d cos(f p)/dp = -f sin(f p).
        g += f * (s[d] * std::cos(f * pi[d]) - s[D + d] * std::sin(f * pi[d]));
      }
      dpi[d] = accumulate ? dpi[d] + g : g;
    }
  }
}

template void positional_encoding_forward<float>(const PositionalEncoding&, const float*, size_t,
                                                 float*);
template void positional_encoding_forward<double>(const PositionalEncoding&, const double*,
                                                  size_t, double*);
template void positional_encoding_backward<float>(const PositionalEncoding&, const float*, size_t,
                                                  const float*, float*, bool);
template void positional_encoding_backward<double>(const PositionalEncoding&, const double*,
                                                   size_t, const double*, double*, bool);

}  // namespace gs
