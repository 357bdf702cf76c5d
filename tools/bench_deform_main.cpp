// bench_deform: times the deformation field (encode + MLP forward + apply, and its backward with
// chunk recomputation) for N Gaussians and prints one JSON object per N on stdout (one line
// each): medians in ms, chunk size, recomputed chunks, and the field's bytes by role plus the
// accounted peak. Shows that activation bytes stay fixed while N grows. Exit 2 on usage errors.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/buffer.h"
#include "core/device.h"
#include "core/errors.h"
#include "core/memory_accounting.h"
#include "deform/deformation_field.h"
#include "tools/flags.h"

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

using gs::tools::Flags;
using gs::tools::UsageError;

// The ceiling of every count and size flag: far beyond what fits in memory, it only stops typos.
constexpr int kMaxCount = 100000000;

struct Options {
  std::vector<int> counts = {10000, 50000, 100000};
  int chunk = 16384, repeats = 3;
  std::string device = "auto";
  gs::DeformationFieldConfig field;
  bool help = false;
};

// "10000,50000": each count checked on its own, so the message points at the bad one.
std::vector<int> parse_counts(const std::string& list) {
  std::vector<int> counts;
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    const std::string item = list.substr(start, comma - start);
    counts.push_back(static_cast<int>(gs::tools::parse_integer("--gaussians", item, 1, kMaxCount)));
    if (comma == std::string::npos) return counts;
    start = comma + 1;
  }
}

Options parse_args(int argc, char** argv) {
  const Flags flags(argc, argv,
                    {{"--gaussians", true}, {"--chunk", true}, {"--width", true},
                     {"--depth", true}, {"--device", true}, {"--repeats", true}, {"--help"}});
  Options o;
  o.help = flags.has("--help");
  if (o.help) return o;
  if (flags.has("--gaussians")) o.counts = parse_counts(flags.value("--gaussians"));
  o.chunk = flags.integer("--chunk", 1, kMaxCount, o.chunk);
  o.field.zero_init_heads = false;
  o.field.width = flags.integer("--width", 1, kMaxCount, o.field.width);
  o.field.depth = flags.integer("--depth", 1, kMaxCount, o.field.depth);
  if (o.field.skip_after >= o.field.depth) o.field.skip_after = o.field.depth / 2;
  o.device = flags.value("--device", o.device);
  o.repeats = flags.integer("--repeats", 1, kMaxCount, o.repeats);
  return o;
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
  Options o;
  try {
    o = parse_args(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "bench_deform: %s\n\n%s", e.what(), kUsage);
    return 2;
  }
  if (o.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const DeformationFieldConfig& cfg = o.field;
  try {
    const Device dev = resolve_device(o.device);
    MemoryAccountant& acc = MemoryAccountant::of(dev.kind);
    for (int n_int : o.counts) {
      const size_t n = size_t(n_int);
      acc.reset_peak();
      DeformationField<float> field(cfg, dev, n, size_t(o.chunk));
      auto up = [&](const std::vector<float>& h) { return Buffer<float>::from_host(dev, h, MemCategory::other); };
      Buffer<float> means = up(random_floats(n * 3, 1, -1.3f, 1.3f));
      Buffer<float> log_scales = up(random_floats(n * 3, 2, -5.f, -2.f));
      Buffer<float> quats = up(random_floats(n * 4, 3, -1.f, 1.f));
      Buffer<float> v_means = up(random_floats(n * 3, 4, -1.f, 1.f));
      Buffer<float> v_ls(dev, n * 3, MemCategory::other), v_q(dev, n * 4, MemCategory::other);
      std::vector<double> fwd, bwd;
      for (int r = 0; r < o.repeats + 1; ++r) {
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
