// bench_deform: times the deformation field (encode + MLP forward + apply, and its backward with
// chunk recomputation) for N Gaussians and prints one JSON object per N on stdout (one line
// each): medians in ms, chunk size, recomputed chunks, and the field's bytes by role plus the
// accounted peak. Shows that activation bytes stay fixed while N grows. Exit 2 on usage errors.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/buffer.h"
#include "core/device.h"
#include "core/errors.h"
#include "core/memory_accounting.h"
#include "deform/deformation_field.h"

namespace {

constexpr const char* kUsage =
    "usage: bench_deform [--gaussians N[,N...]] [--chunk C] [--width W] [--depth D]\n"
    "                    [--device D] [--repeats R]\n"
    "\n"
    "Times the Deformable-3DGS deformation field (default 8 x 256, skip after layer 4, L = 10/6)\n"
    "on random canonical Gaussians and prints one JSON line per N: forward_ms, backward_ms\n"
    "(medians), chunk_gaussians, recomputed_chunks, state/activation/per-Gaussian bytes and the\n"
    "accounted peak.\n"
    "\n"
    "  --gaussians LIST  Gaussian counts (default 10000,50000,100000)\n"
    "  --chunk C         Gaussians per MLP chunk (default 16384)\n"
    "  --width W, --depth D   network size (default 256, 8)\n"
    "  --device D        auto (default) | cpu | cuda | cuda:N\n"
    "  --repeats R       measured repetitions (default 3) after one warm-up\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int to_int(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    const long x = std::stol(v, &used);
    if (used != v.size() || x <= 0 || x > 100000000) throw std::invalid_argument("range");
    return int(x);
  } catch (const std::exception&) {
    throw UsageError(flag + " expects a positive integer, got '" + v + "'");
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<float> random_floats(size_t n, uint64_t seed, float lo, float hi) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(gen);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gs;
  std::vector<int> counts = {10000, 50000, 100000};
  int chunk = 16384, repeats = 3;
  std::string device_spec = "auto";
  DeformationFieldConfig cfg;
  cfg.zero_init_heads = false;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--help") {
        std::fputs(kUsage, stdout);
        return 0;
      }
      if (i + 1 >= argc) throw UsageError(a + " needs a value (or unknown argument)");
      const std::string v = argv[++i];
      if (a == "--gaussians") {
        counts.clear();
        size_t start = 0;
        while (start <= v.size()) {
          const size_t comma = v.find(',', start);
          counts.push_back(to_int(a, v.substr(start, comma - start)));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      } else if (a == "--chunk") chunk = to_int(a, v);
      else if (a == "--width") cfg.width = to_int(a, v);
      else if (a == "--depth") cfg.depth = to_int(a, v);
      else if (a == "--device") device_spec = v;
      else if (a == "--repeats") repeats = to_int(a, v);
      else throw UsageError("unknown argument '" + a + "'");
    }
    if (cfg.skip_after >= cfg.depth) cfg.skip_after = cfg.depth / 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "bench_deform: %s\n\n%s", e.what(), kUsage);
    return 2;
  }
  try {
    const Device dev = resolve_device(device_spec);
    MemoryAccountant& acc = MemoryAccountant::of(dev.kind);
    for (int n_int : counts) {
      const size_t n = size_t(n_int);
      acc.reset_peak();
      DeformationField<float> field(cfg, dev, n, size_t(chunk));
      auto up = [&](const std::vector<float>& h) { return Buffer<float>::from_host(dev, h, MemCategory::other); };
      Buffer<float> means = up(random_floats(n * 3, 1, -1.3f, 1.3f));
      Buffer<float> log_scales = up(random_floats(n * 3, 2, -5.f, -2.f));
      Buffer<float> quats = up(random_floats(n * 4, 3, -1.f, 1.f));
      Buffer<float> v_means = up(random_floats(n * 3, 4, -1.f, 1.f));
      Buffer<float> v_ls(dev, n * 3, MemCategory::other), v_q(dev, n * 4, MemCategory::other);
      std::vector<double> fwd, bwd;
      for (int r = 0; r < repeats + 1; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        field.forward(means.data(), log_scales.data(), quats.data(), n, 0.5f);
        synchronize(dev);
        auto t1 = std::chrono::steady_clock::now();
        field.mlp().zero_grad();
        field.backward(means.data(), log_scales.data(), quats.data(), n, 0.5f, v_means.data(),
                       v_ls.data(), v_q.data());
        synchronize(dev);
        auto t2 = std::chrono::steady_clock::now();
        if (r == 0) continue;  // warm-up
        fwd.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        bwd.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
      }
      nlohmann::ordered_json j;
      j["device"] = dev.name();
      j["threads"] = dev.is_cpu() ? omp_get_max_threads() : 0;
      j["gaussians"] = n;
      j["depth"] = cfg.depth;
      j["width"] = cfg.width;
      j["chunk_gaussians"] = field.chunk_rows();
      j["recomputed_chunks"] = field.recomputed_chunks();
      j["forward_ms"] = median(fwd);
      j["backward_ms"] = median(bwd);
      j["state_bytes"] = field.state_bytes();
      j["activation_bytes"] = field.activation_bytes();
      j["per_gaussian_bytes"] = field.per_gaussian_bytes();
      j["peak_accounted_bytes"] = acc.peak_total();
      std::printf("%s\n", j.dump().c_str());
      std::fflush(stdout);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_deform: %s\n", e.what());
    return 1;
  }
  return 0;
}
