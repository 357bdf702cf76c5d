// Deformation ops on CUDA: the shared kernel bodies (deform_impl.h) under parallel_for; the
// embedding-gradient scatter adds each row's embedding columns to its instance with atomics
// (the order of the float sums, unlike the CPU's, is not fixed).
#include "core/parallel_for.h"
#include "deform/deform_impl.h"
#include "deform/deform_ops.h"

namespace gs {
namespace {

// One (row, embedding column) per index: d_embeddings[ids[row]][e] += d_input[row][col + e].
struct ScatterEmbeddingGradsKernel {
  const int32_t* ids;
  size_t count;
  const float* d_input;
  int ld, col, embedding_dim;
  float* d_embeddings;

  __device__ void operator()(size_t i) const {
    const size_t row = i / size_t(embedding_dim);
    const int e = int(i % size_t(embedding_dim));
    const int32_t id = ids[row];
    if (id < 0 || size_t(id) >= count) return;
    atomicAdd(d_embeddings + size_t(id) * size_t(embedding_dim) + e,
              d_input[row * size_t(ld) + size_t(col) + size_t(e)]);
  }
};

}  // namespace

void encode_field_input_cuda(const Device& device, const FieldEncoding& enc, const float* means,
                             size_t n, float t, float* out, const FieldInstances<float>* instances,
                             int embedding_dim) {
  deform_impl::EncodeKernel<float> k{means, t, enc.position_freqs, enc.time_freqs,
                                     float(enc.scale), out, embedding_dim, nullptr, 0, nullptr,
                                     nullptr};
  if (instances) {
    k.ids = instances->ids;
    k.instance_count = instances->count;
    k.inv_box_size = instances->inv_box_size;
    k.embeddings = instances->embeddings;
  }
  parallel_for(device, n, k);
}

void apply_deformation_forward_cuda(const Device& device, size_t n, const float* means,
                                    const float* log_scales, const float* quats,
                                    const float* deltas, float* means_out, float* log_scales_out,
                                    float* quats_out, int delta_dim) {
  parallel_for(device, n,
               deform_impl::ApplyForwardKernel<float>{means, log_scales, quats, deltas, means_out,
                                                      log_scales_out, quats_out, delta_dim});
}

void apply_deformation_backward_cuda(const Device& device, size_t n, const float* log_scales,
                                     const float* quats, const float* deltas, const float* v_means,
                                     float* v_log_scales, float* v_quats, float* d_deltas,
                                     int delta_dim) {
  parallel_for(device, n,
               deform_impl::ApplyBackwardKernel<float>{log_scales, quats, deltas, v_means,
                                                       v_log_scales, v_quats, d_deltas,
                                                       delta_dim});
}

void scatter_embedding_grads_cuda(const Device& device, size_t n, const int32_t* ids,
                                  size_t count, const float* d_input, int ld, int col,
                                  int embedding_dim, float* d_embeddings) {
  parallel_for(device, n * size_t(embedding_dim),
               ScatterEmbeddingGradsKernel{ids, count, d_input, ld, col, embedding_dim,
                                           d_embeddings});
}

}  // namespace gs
