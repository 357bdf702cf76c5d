// Body template files (see body_template_file.h).
#include "datasets/body_template_file.h"

#include <cmath>

#include "core/errors.h"
#include "datasets/json_fields.h"

namespace gs {
using nlohmann::json;

namespace {

constexpr const char* kHint =
    "write the file with scripts/convert_smpl_model.py (docs/humanpose_format.md)";

const json& array_member(const json& doc, const char* key, size_t size, const std::string& file) {
  const auto it = doc.find(key);
  if (it == doc.end()) throw_field_error(file, key, "missing", kHint);
  if (!it->is_array() || (size > 0 && it->size() != size))
    throw_field_error(file, key,
                      "expected an array of " + (size > 0 ? std::to_string(size) : "V") +
                          " entries, got " + (it->is_array() ? std::to_string(it->size()) : it->type_name()),
                      kHint);
  return *it;
}

// Row i of `rows` as `n` finite numbers.
template <class T, size_t N>
std::array<T, N> row_of(const json& rows, size_t i, const char* key, const std::string& file) {
  const json& r = rows[i];
  std::array<T, N> out{};
  bool ok = r.is_array() && r.size() == N;
  for (size_t k = 0; ok && k < N; ++k) {
    ok = r[k].is_number() && std::isfinite(r[k].get<double>());
    if (ok) out[k] = r[k].get<T>();
  }
  if (!ok)
    throw_field_error(file, std::string(key) + "[" + std::to_string(i) + "]",
                      "expected " + std::to_string(N) + " finite numbers, got " + r.dump(), kHint);
  return out;
}

}  // namespace

BodyTemplate read_body_template(const std::string& file) {
  const json doc = read_json_file(file);
  if (!doc.is_object()) throw_field_error(file, "(top level)", "expected an object", kHint);
  const auto format = doc.find("format");
  if (format == doc.end() || !format->is_string() ||
      format->get<std::string>() != "gstrain-body-template")
    throw_field_error(file, "format", "expected \"gstrain-body-template\"", kHint);
  const auto joints = doc.find("joint_count");
  if (joints == doc.end() || !joints->is_number_integer() ||
      joints->get<long long>() != kSkeletonJoints)
    throw_field_error(file, "joint_count",
                      "expected 24 (SMPL's skeleton), got " +
                          (joints == doc.end() ? std::string("nothing") : joints->dump()),
                      "skinned humans use SMPL's 24-joint tree; SMPL-X or SMPL-H models must be "
                      "reduced to SMPL's joints first");
  const json& parents = array_member(doc, "parents", kSkeletonJoints, file);
  for (size_t j = 0; j < size_t(kSkeletonJoints); ++j)
    if (!parents[j].is_number_integer() || parents[j].get<int>() != kSmplParents[j])
      throw_field_error(file, "parents[" + std::to_string(j) + "]",
                        "expected " + std::to_string(kSmplParents[j]) + " (SMPL's tree), got " +
                            parents[j].dump(),
                        kHint);
  BodyTemplate body;
  body.source = file;
  const json& rest = array_member(doc, "joints", kSkeletonJoints, file);
  for (size_t j = 0; j < size_t(kSkeletonJoints); ++j)
    body.joints[j] = row_of<double, 3>(rest, j, "joints", file);
  const json& vertices = array_member(doc, "vertices", 0, file);
  if (vertices.empty()) throw_field_error(file, "vertices", "no vertices", kHint);
  const size_t V = vertices.size();
  const json& skin_joints = array_member(doc, "skin_joints", V, file);
  const json& skin_weights = array_member(doc, "skin_weights", V, file);
  for (size_t i = 0; i < V; ++i) {
    body.vertices.push_back(row_of<float, 3>(vertices, i, "vertices", file));
    const auto js = row_of<double, kSkinInfluences>(skin_joints, i, "skin_joints", file);
    const auto ws = row_of<float, kSkinInfluences>(skin_weights, i, "skin_weights", file);
    std::array<int32_t, kSkinInfluences> jrow;
    double sum = 0;
    for (size_t k = 0; k < size_t(kSkinInfluences); ++k) {
      if (js[k] < 0 || js[k] >= kSkeletonJoints || js[k] != std::floor(js[k]))
        throw_field_error(file, "skin_joints[" + std::to_string(i) + "]",
                          "joint indices must be integers in 0 … 23", kHint);
      if (ws[k] < 0)
        throw_field_error(file, "skin_weights[" + std::to_string(i) + "]",
                          "weights must not be negative", kHint);
      jrow[k] = int32_t(js[k]);
      sum += ws[k];
    }
    if (std::abs(sum - 1.0) > 1e-3)
      throw_field_error(file, "skin_weights[" + std::to_string(i) + "]",
                        "the weights sum to " + std::to_string(sum) + ", not 1", kHint);
    body.skin_joints.push_back(jrow);
    body.skin_weights.push_back(ws);
  }
  return body;
}

}  // namespace gs
