// A body template file (docs/humanpose_format.md, "Body template"): an SMPL model converted by
// scripts/convert_smpl_model.py into our JSON format, read into deform/skeleton.h's BodyTemplate.
#pragma once

#include <string>

#include "deform/skeleton.h"

namespace gs {

// Throws IoError naming the file and the field for anything malformed: a wrong format tag, not
// 24 joints, a tree that is not SMPL's, arrays of the wrong shape, joints out of range, weights
// that are negative, not finite or do not sum to 1.
BodyTemplate read_body_template(const std::string& path);

}  // namespace gs
