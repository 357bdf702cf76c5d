// Initial point sources: random boxes and a small PLY vertex reader. The trainer's 3DGS PLY
// reader is not used here: datasets/ sits below trainer/ and only needs positions and colours.
#include "datasets/init_points.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

#include "core/errors.h"

namespace gs {

void random_points_in_box(size_t count, const std::array<float, 3>& lo,
                          const std::array<float, 3>& hi, uint32_t seed, std::vector<float>& points,
                          std::vector<float>& colors) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  points.reserve(points.size() + count * 3);
  colors.reserve(colors.size() + count * 3);
  for (size_t i = 0; i < count; ++i) {
    for (int k = 0; k < 3; ++k) points.push_back(lo[k] + (hi[k] - lo[k]) * unit(rng));
    for (int k = 0; k < 3; ++k) colors.push_back(unit(rng));
  }
}

namespace {

struct Property {
  std::string name;
  int size = 0;  // bytes in binary files
  bool is_float = false;
  bool is_signed = false;
};

int type_size(const std::string& t, bool* is_float, bool* is_signed) {
  *is_float = (t == "float" || t == "float32" || t == "double" || t == "float64");
  *is_signed = *is_float || t == "char" || t == "int8" || t == "short" || t == "int16" ||
               t == "int" || t == "int32";
  if (t == "char" || t == "uchar" || t == "int8" || t == "uint8") return 1;
  if (t == "short" || t == "ushort" || t == "int16" || t == "uint16") return 2;
  if (t == "int" || t == "uint" || t == "int32" || t == "uint32" || t == "float" || t == "float32")
    return 4;
  if (t == "double" || t == "float64") return 8;
  return 0;
}

double decode(const char* p, const Property& prop) {
  switch (prop.size) {
    case 1: return prop.is_signed ? double(int8_t(*p)) : double(uint8_t(*p));
    case 2: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return prop.is_signed ? double(int16_t(v)) : double(v);
    }
    case 4: {
      if (prop.is_float) {
        float f;
        std::memcpy(&f, p, 4);
        return f;
      }
      uint32_t v;
      std::memcpy(&v, p, 4);
      return prop.is_signed ? double(int32_t(v)) : double(v);
    }
    default: {
      double d;
      std::memcpy(&d, p, 8);
      return d;
    }
  }
}

}  // namespace

void read_ply_points(const std::string& path, std::vector<float>& points,
                     std::vector<float>& colors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open the PLY file", "check the init_ply path");
  const char* kHint = "give a PLY whose first element is 'vertex' with x, y, z properties";
  std::string line;
  if (!std::getline(in, line) || line.rfind("ply", 0) != 0)
    throw IoError(path + ": not a PLY file (no 'ply' magic)", kHint);
  bool binary = false, in_vertex = false, seen_element = false;
  size_t count = 0;
  std::vector<Property> props;
  while (true) {
    if (!std::getline(in, line)) throw IoError(path + ": header has no end_header", kHint);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream ss(line);
    std::string word;
    ss >> word;
    if (word == "end_header") break;
    if (word == "format") {
      std::string fmt;
      ss >> fmt;
      if (fmt == "binary_little_endian")
        binary = true;
      else if (fmt != "ascii")
        throw IoError(path + ": format '" + fmt + "' is not supported",
                      "use ASCII or binary "
                      "little-endian PLY");
    } else if (word == "element") {
      std::string name;
      ss >> name;
      if (!seen_element && name != "vertex")
        throw IoError(path + ": the first element is '" + name + "', not 'vertex'", kHint);
      in_vertex = !seen_element;
      if (in_vertex) ss >> count;
      seen_element = true;
    } else if (word == "property" && in_vertex) {
      std::string type, name;
      ss >> type;
      if (type == "list") throw IoError(path + ": list property in the vertex element", kHint);
      ss >> name;
      Property p;
      p.name = name;
      p.size = type_size(type, &p.is_float, &p.is_signed);
      if (p.size == 0)
        throw IoError(path + ": vertex property '" + name + "' has unknown type '" + type + "'",
                      kHint);
      props.push_back(p);
    }
  }
  auto index_of = [&](const char* name) {
    for (size_t i = 0; i < props.size(); ++i)
      if (props[i].name == name) return static_cast<int>(i);
    return -1;
  };
  const int ix = index_of("x"), iy = index_of("y"), iz = index_of("z");
  if (ix < 0 || iy < 0 || iz < 0) throw IoError(path + ": vertex has no x, y, z properties", kHint);
  int ic[3] = {index_of("red"), index_of("green"), index_of("blue")};
  bool sh_dc = false;
  if (ic[0] < 0 || ic[1] < 0 || ic[2] < 0) {
    const int dc[3] = {index_of("f_dc_0"), index_of("f_dc_1"), index_of("f_dc_2")};
    sh_dc = dc[0] >= 0 && dc[1] >= 0 && dc[2] >= 0;
    std::copy(dc, dc + 3, ic);
  }
  const bool has_color = ic[0] >= 0 && ic[1] >= 0 && ic[2] >= 0;

  size_t stride = 0;
  std::vector<size_t> offset;
  for (const Property& p : props) {
    offset.push_back(stride);
    stride += p.size;
  }
  std::vector<double> v(props.size());
  std::vector<char> record(stride);
  // A corrupt header may claim billions of vertices: reserve what is plausible, grow past it.
  const size_t expect = std::min<size_t>(count, size_t(1) << 24);
  points.reserve(points.size() + expect * 3);
  colors.reserve(colors.size() + expect * 3);
  for (size_t i = 0; i < count; ++i) {
    if (binary) {
      if (!in.read(record.data(), static_cast<std::streamsize>(stride)))
        throw IoError(
            path + ": truncated at vertex " + std::to_string(i) + " of " + std::to_string(count),
            "the file is incomplete: re-export it");
      for (size_t k = 0; k < props.size(); ++k) v[k] = decode(&record[offset[k]], props[k]);
    } else {
      for (size_t k = 0; k < props.size(); ++k)
        if (!(in >> v[k]))
          throw IoError(path + ": vertex " + std::to_string(i) + ": cannot read property '" +
                            props[k].name + "'",
                        "the file is incomplete or not a valid ASCII PLY");
    }
    points.push_back(static_cast<float>(v[ix]));
    points.push_back(static_cast<float>(v[iy]));
    points.push_back(static_cast<float>(v[iz]));
    for (int k = 0; k < 3; ++k) {
      double c = 0.5;
      if (has_color) {
        const Property& p = props[ic[k]];
        if (sh_dc)
          c = 0.5 + 0.28209479177387814 * v[ic[k]];  // SH band-0 constant
        else if (p.is_float)
          c = v[ic[k]];
        else
          c = v[ic[k]] / (p.size == 1 ? 255.0 : 65535.0);
      }
      colors.push_back(static_cast<float>(std::clamp(c, 0.0, 1.0)));
    }
  }
}

}  // namespace gs
