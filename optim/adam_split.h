// Adam over a group whose rows have two learning rates: the first `head_floats` of every row
// use `lr_head`, the rest the group's lr. Used for SH coefficients stored [n][k][rgb], where the
// DC term (k = 0, 3 floats) learns 20× faster than the higher orders (3DGS's feature_dc/rest).
#pragma once

#include "optim/adam.h"

namespace gs {

void adam_step_split_rows(const Device& device, ParamGroup& group, size_t head_floats,
                          double lr_head, int step, const AdamSettings& settings);

}  // namespace gs
