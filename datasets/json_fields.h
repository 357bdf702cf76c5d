// Reading transforms JSON files with errors that name the file and the field
// ("transforms_train.json: frames[3].transform_matrix: expected 4x4 numbers").
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/camera.h"

namespace gs {

// Parses a JSON file; IoError when it is missing or not valid JSON (with line and column).
nlohmann::json read_json_file(const std::string& path);

// Field access: `field` is the path shown in errors, e.g. "frames[3].time".
[[noreturn]] void throw_field_error(const std::string& file, const std::string& field,
                                    const std::string& problem, const std::string& hint);
double json_number(const nlohmann::json& object, const char* key, const std::string& file,
                   const std::string& parent);  // required
std::optional<double> json_optional_number(const nlohmann::json& object, const char* key,
                                           const std::string& file, const std::string& parent);
std::string json_string(const nlohmann::json& object, const char* key, const std::string& file,
                        const std::string& parent);
// A 4×4 (or 3×4, completed with 0 0 0 1) row-major matrix of numbers.
std::array<double, 16> json_matrix4(const nlohmann::json& object, const char* key,
                                    const std::string& file, const std::string& parent);

// Sets `camera`'s pose from a NeRF/Blender camera→world matrix (OpenGL camera axes: x right,
// y up, z backward) by flipping the camera's y and z axes to OpenCV's. IoError when the
// rotation part is not a rotation.
void set_pose_from_opengl_c2w(Camera& camera, const std::array<double, 16>& c2w,
                              const std::string& file, const std::string& field);

// The image file named by a frame's file_path, relative to `dir`; NeRF-synthetic omits the
// extension, so .png, .jpg and .jpeg are tried. IoError naming the field when none exists.
std::string resolve_image_path(const std::string& dir, const std::string& file_path,
                               const std::string& file, const std::string& field);

}  // namespace gs
