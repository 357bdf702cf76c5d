// One scene node's trainable Gaussians, allocated once at the capacity the budget planner gave
// the node: parameters, Adam moments and densification statistics never grow past it, so
// densification is row copies inside fixed arrays (no concatenate-and-copy peaks).
#pragma once

#include <array>
#include <cstdint>
#include <cstddef>
#include <functional>
#include <string>

#include "core/buffer.h"
#include "core/device.h"
#include "rasterizer/rasterize.h"
#include "scene/gaussian_cloud.h"

namespace gs {

// Parameter groups, each a contiguous row-major array with its own learning rate.
enum class GaussianParam : int { means = 0, log_scales, quats, opacity, sh, count };
constexpr int kNumGaussianParams = static_cast<int>(GaussianParam::count);
const char* to_string(GaussianParam g);

// Floats per Gaussian of a group at an SH degree: 3, 3, 4, 1, 3(d+1)².
size_t group_row_floats(GaussianParam g, int sh_degree);

// Host pointers to every per-Gaussian array of a model (all rows up to capacity), so host-side
// algorithms (init, densify, checkpoint) are written once for both devices.
struct ModelHostArrays {
  std::array<float*, kNumGaussianParams> params{}, adam_m{}, adam_v{};
  float* absgrad_accum = nullptr;  // Σ over views of |AbsGrad| (norm of the 2-vector)
  float* grad_count = nullptr;     // views in which the Gaussian was visible
  float* max_screen_size = nullptr;  // largest screen radius seen, over the image's larger side
  int32_t* tags = nullptr;         // tagged models only: a per-Gaussian integer (the instance of
                                   // a rigid node's Gaussian) that moves with its row
  size_t rows = 0;                 // rows every array holds (≥ count; capacity on the CPU)
};

class GaussianModel {
 public:
  // `tagged`: the model keeps a per-Gaussian integer tag (ModelHostArrays::tags).
  // `trainable` false: parameters only, no Adam moments or densification statistics (a model
  // that is only rendered, as gsrender's: a third of the bytes); their host pointers are null.
  GaussianModel(std::string name, const Device& device, int sh_degree, size_t capacity,
                bool tagged = false, bool trainable = true);

  const std::string& name() const { return name_; }
  const Device& device() const { return device_; }
  int sh_degree() const { return sh_degree_; }
  size_t capacity() const { return capacity_; }
  size_t count() const { return count_; }
  void set_count(size_t n);

  float* params(GaussianParam g) { return params_[int(g)].data(); }
  const float* params(GaussianParam g) const { return params_[int(g)].data(); }
  float* adam_m(GaussianParam g) { return m_[int(g)].data(); }
  float* adam_v(GaussianParam g) { return v_[int(g)].data(); }
  float* absgrad_accum() { return absgrad_accum_.data(); }
  float* grad_count() { return grad_count_.data(); }
  float* max_screen_size() { return max_screen_size_.data(); }
  bool tagged() const { return tagged_; }
  bool trainable() const { return trainable_; }
  const int32_t* tags() const { return tags_.data(); }

  // Rasterizer inputs for the first count() Gaussians with the given colours.
  GaussianInputs inputs(const float* colors) const;

  // Runs `fn` on host-visible arrays: the buffers themselves on the CPU; on CUDA a host copy of
  // the first `rows` rows (clamped to [count, capacity]; PCIe traffic scales with it), uploaded
  // back afterwards when `write_back` is set.
  void with_host_arrays(const std::function<void(ModelHostArrays&)>& fn, bool write_back,
                        size_t rows = SIZE_MAX);

  // Replaces the Gaussians (and zeroes optimizer state and statistics). Throws when the cloud
  // has more Gaussians than the capacity; the caller subsamples first.
  void load_cloud(const GaussianCloud& cloud);
  // Same, with the tags of a tagged model (one per Gaussian of the cloud).
  void load_cloud(const GaussianCloud& cloud, const std::vector<int32_t>& tags);
  std::vector<int32_t> tags_to_host() const;
  GaussianCloud to_cloud() const;

  // Zeroes the densification statistics (views, gradients, screen sizes) of every row.
  void clear_statistics();

  // Bytes held for the whole capacity (params + Adam moments + densification statistics).
  size_t allocated_bytes() const;

 private:
  std::string name_;
  Device device_;
  int sh_degree_;
  size_t capacity_;
  size_t count_ = 0;
  std::array<Buffer<float>, kNumGaussianParams> params_, m_, v_;
  Buffer<float> absgrad_accum_, grad_count_, max_screen_size_;
  bool tagged_ = false;
  bool trainable_ = true;
  Buffer<int32_t> tags_;
};

}  // namespace gs
