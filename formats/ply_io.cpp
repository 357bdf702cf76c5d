// PLY reading (by property name, any type, binary little-endian or ASCII) and atomic writing in
// the INRIA 3DGS layout.
#include "formats/ply_io.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string_view>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/logging.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ply_io.cpp reads and writes little-endian data by memcpy; add byte swapping for this host"
#endif

namespace gs {
namespace fs = std::filesystem;

namespace {

constexpr const char* kLayoutHint =
    "a 3DGS PLY needs a 'vertex' element with x y z f_dc_0..2 opacity scale_0..2 rot_0..3 "
    "(f_rest_* and normals optional), as written by graphdeco 3DGS, gsplat or gstrain";

[[noreturn]] void fail(const std::string& path, const std::string& what,
                       const std::string& hint = kLayoutHint) {
  throw IoError(path + ": " + what, hint);
}

enum class PlyType { i8, u8, i16, u16, i32, u32, f32, f64 };

std::optional<PlyType> parse_type(std::string_view s) {
  if (s == "char" || s == "int8") return PlyType::i8;
  if (s == "uchar" || s == "uint8") return PlyType::u8;
  if (s == "short" || s == "int16") return PlyType::i16;
  if (s == "ushort" || s == "uint16") return PlyType::u16;
  if (s == "int" || s == "int32") return PlyType::i32;
  if (s == "uint" || s == "uint32") return PlyType::u32;
  if (s == "float" || s == "float32") return PlyType::f32;
  if (s == "double" || s == "float64") return PlyType::f64;
  return std::nullopt;
}

size_t type_size(PlyType t) {
  switch (t) {
    case PlyType::i8:
    case PlyType::u8: return 1;
    case PlyType::i16:
    case PlyType::u16: return 2;
    case PlyType::i32:
    case PlyType::u32:
    case PlyType::f32: return 4;
    case PlyType::f64: return 8;
  }
  return 0;
}

bool is_integer_type(PlyType t) { return t != PlyType::f32 && t != PlyType::f64; }

template <class T>
double load_as(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return static_cast<double>(v);
}

double decode(PlyType t, const char* p) {
  switch (t) {
    case PlyType::i8: return load_as<int8_t>(p);
    case PlyType::u8: return load_as<uint8_t>(p);
    case PlyType::i16: return load_as<int16_t>(p);
    case PlyType::u16: return load_as<uint16_t>(p);
    case PlyType::i32: return load_as<int32_t>(p);
    case PlyType::u32: return load_as<uint32_t>(p);
    case PlyType::f32: return load_as<float>(p);
    case PlyType::f64: return load_as<double>(p);
  }
  return 0.0;
}

struct Property {
  std::string name;
  PlyType type = PlyType::f32;
  bool is_list = false;
  PlyType count_type = PlyType::u8;  // lists only
};

struct Element {
  std::string name;
  uint64_t count = 0;
  std::vector<Property> props;
  bool has_lists() const {
    return std::any_of(props.begin(), props.end(), [](const Property& p) { return p.is_list; });
  }
  // Bytes of one binary record without list items (lists count only their length field).
  size_t min_record_bytes() const {
    size_t b = 0;
    for (const Property& p : props) b += p.is_list ? type_size(p.count_type) : type_size(p.type);
    return b;
  }
};

enum class PlyFormat { ascii, binary_le };

struct Header {
  PlyFormat format = PlyFormat::binary_le;
  std::vector<Element> elements;
  size_t data_offset = 0;  // bytes from the start of the file to the first data byte
};

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// Header lines are short; a "header" that runs on for this long is a binary file without
// end_header, and reading further would only waste time and memory.
constexpr size_t kMaxHeaderBytes = 1 << 20;

Header parse_header(std::istream& in, const std::string& path) {
  Header h;
  std::string line;
  size_t consumed = 0;
  int line_no = 0;
  bool have_format = false;
  // Reads one line without ever buffering more than kMaxHeaderBytes, even from a binary file
  // that has no newline for megabytes.
  auto next_line = [&]() -> bool {
    line.clear();
    for (;;) {
      const int c = in.get();
      if (c == std::char_traits<char>::eof()) {
        if (line.empty()) return false;
        break;
      }
      ++consumed;
      if (c == '\n') break;
      if (consumed > kMaxHeaderBytes)
        fail(path, "no 'end_header' in the first 1 MiB: the header is malformed");
      line.push_back(static_cast<char>(c));
    }
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();  // files written on Windows
    return true;
  };
  if (!next_line() || line != "ply")
    fail(path, "not a PLY file (the first line is not 'ply')",
         "check the path; gstrain reads 3DGS .ply files");
  for (;;) {
    if (!next_line()) fail(path, "the header ends without 'end_header' (truncated file?)");
    const auto tok = split_ws(line);
    const std::string where = "header line " + std::to_string(line_no);
    if (tok.empty()) continue;
    const std::string_view key = tok[0];
    if (key == "end_header") break;
    if (key == "comment" || key == "obj_info") continue;
    if (key == "format") {
      if (tok.size() < 2) fail(path, where + ": 'format' without a value");
      if (tok[1] == "ascii") {
        h.format = PlyFormat::ascii;
      } else if (tok[1] == "binary_little_endian") {
        h.format = PlyFormat::binary_le;
      } else if (tok[1] == "binary_big_endian") {
        fail(path, "binary_big_endian PLY is not supported",
             "convert the file to binary_little_endian (e.g. re-export it from the tool that "
             "wrote it)");
      } else {
        fail(path, where + ": unknown format '" + std::string(tok[1]) + "'",
             "use ascii or binary_little_endian");
      }
      have_format = true;
    } else if (key == "element") {
      if (tok.size() != 3) fail(path, where + ": expected 'element <name> <count>'");
      Element e;
      e.name = std::string(tok[1]);
      const std::string_view c = tok[2];
      uint64_t count = 0;
      const auto r = std::from_chars(c.data(), c.data() + c.size(), count);
      if (r.ec != std::errc() || r.ptr != c.data() + c.size())
        fail(path, where + ": element '" + e.name + "' has count '" + std::string(c) +
                       "', not a non-negative integer");
      e.count = count;
      h.elements.push_back(std::move(e));
    } else if (key == "property") {
      if (h.elements.empty()) fail(path, where + ": 'property' before any 'element'");
      Property p;
      if (tok.size() >= 2 && tok[1] == "list") {
        if (tok.size() != 5)
          fail(path, where + ": expected 'property list <count type> <item type> <name>'");
        const auto ct = parse_type(tok[2]), it = parse_type(tok[3]);
        if (!ct || !it)
          fail(path, where + ": unknown type in '" + line + "'",
               "PLY types are char uchar short ushort int uint float double");
        if (!is_integer_type(*ct))
          fail(path, where + ": list count type '" + std::string(tok[2]) +
                         "' is not an integer type, so the element cannot be read or skipped");
        p.is_list = true;
        p.count_type = *ct;
        p.type = *it;
        p.name = std::string(tok[4]);
      } else {
        if (tok.size() != 3) fail(path, where + ": expected 'property <type> <name>'");
        const auto t = parse_type(tok[1]);
        if (!t)
          fail(path, where + ": unknown property type '" + std::string(tok[1]) + "'",
               "PLY types are char uchar short ushort int uint float double");
        p.type = *t;
        p.name = std::string(tok[2]);
      }
      Element& e = h.elements.back();
      for (const Property& q : e.props)
        if (q.name == p.name)
          fail(path, where + ": property '" + p.name + "' appears twice in element '" + e.name +
                         "'");
      e.props.push_back(std::move(p));
    } else {
      fail(path, where + ": unknown header keyword '" + std::string(key) + "'");
    }
  }
  if (!have_format) fail(path, "the header has no 'format' line");
  h.data_offset = consumed;
  return h;
}

// Buffered reads from the data section, so per-value decoding does not go through iostreams.
class ByteSource {
 public:
  explicit ByteSource(std::istream& in) : in_(in), buf_(1 << 20) {}

  // A pointer to the next n bytes, or nullptr at the end of the file.
  const char* take(size_t n) {
    if (end_ - pos_ < n && !fill(n)) return nullptr;
    const char* p = buf_.data() + pos_;
    pos_ += n;
    return p;
  }
  // Skips n bytes; false at the end of the file.
  bool skip(uint64_t n) {
    const uint64_t here = std::min<uint64_t>(n, end_ - pos_);
    pos_ += static_cast<size_t>(here);
    n -= here;
    if (n == 0) return true;
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(n), std::ios::cur);
    if (!in_) return false;
    // seekg past the end succeeds silently; check that the bytes exist by peeking one back.
    return probe_position();
  }
  // Next byte or -1 (ASCII).
  int get() {
    if (pos_ == end_ && !fill(1)) return -1;
    return static_cast<unsigned char>(buf_[pos_++]);
  }

 private:
  bool fill(size_t need) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
    if (buf_.size() < need) buf_.resize(need);
    while (end_ < need) {
      in_.read(buf_.data() + end_, static_cast<std::streamsize>(buf_.size() - end_));
      const auto got = static_cast<size_t>(in_.gcount());
      end_ += got;
      if (got == 0) return false;
    }
    return true;
  }
  bool probe_position() {
    const auto at = in_.tellg();
    in_.seekg(0, std::ios::end);
    const auto size = in_.tellg();
    if (at > size) return false;
    in_.seekg(at);
    return static_cast<bool>(in_);
  }

  std::istream& in_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
};

// Whitespace-separated tokens of an ASCII body.
class TokenSource {
 public:
  explicit TokenSource(ByteSource& src) : src_(src) {}
  bool next(std::string& tok) {
    tok.clear();
    int c = src_.get();
    while (c != -1 && std::isspace(c)) c = src_.get();
    while (c != -1 && !std::isspace(c)) {
      tok.push_back(static_cast<char>(c));
      c = src_.get();
    }
    return !tok.empty();
  }

 private:
  ByteSource& src_;
};

bool parse_number(const std::string& tok, double& v) {
  const char* b = tok.data();
  const char* e = b + tok.size();
  if (b != e && *b == '+') ++b;  // from_chars rejects a leading '+'
  const auto r = std::from_chars(b, e, v);
  return r.ec == std::errc() && r.ptr == e;
}

// Where one vertex property goes in the cloud: element i lands at base[i * stride + offset].
struct Target {
  std::vector<float>* base = nullptr;
  size_t stride = 0, offset = 0;
};

std::string element_summary(const Element& e) {
  return "element '" + e.name + "' (" + std::to_string(e.count) + " records)";
}

}  // namespace

GaussianCloud read_ply(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw IoError(path + ": file not found", "check the path (relative paths are resolved from " +
                                                 fs::current_path(ec).string() + ")");
  if (fs::is_directory(path, ec))
    throw IoError(path + ": is a directory, not a PLY file", "pass the .ply file itself");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open for reading", "check the file permissions");
  const uint64_t file_size = fs::file_size(path, ec);

  const Header h = parse_header(in, path);

  size_t vi = h.elements.size();
  for (size_t i = 0; i < h.elements.size(); ++i)
    if (h.elements[i].name == "vertex") {
      vi = i;
      break;
    }
  if (vi == h.elements.size()) fail(path, "the header declares no 'vertex' element");
  const Element& vertex = h.elements[vi];

  // Map vertex properties to the cloud's arrays by name.
  std::vector<int> rest_index(vertex.props.size(), -1);
  for (size_t p = 0; p < vertex.props.size(); ++p) {
    const std::string& name = vertex.props[p].name;
    if (name.rfind("f_rest_", 0) == 0) {
      int j = -1;
      const char* b = name.data() + 7;
      const char* e = name.data() + name.size();
      const auto r = std::from_chars(b, e, j);
      if (r.ec != std::errc() || r.ptr != e || j < 0)
        fail(path, "vertex property '" + name + "' is not f_rest_<index>");
      rest_index[p] = j;
    }
  }
  const int rest_count = static_cast<int>(
      std::count_if(rest_index.begin(), rest_index.end(), [](int j) { return j >= 0; }));
  int degree = -1;
  for (int d = 0; d <= 3; ++d)
    if (rest_count == 3 * (sh_coeff_count(d) - 1)) degree = d;
  if (degree < 0)
    fail(path,
         "has " + std::to_string(rest_count) +
             " f_rest_* properties; SH degrees 0..3 need 0, 9, 24 or 45",
         "the file is not a 3DGS PLY of SH degree 0..3, or it was written incompletely");
  {
    std::vector<bool> seen(static_cast<size_t>(rest_count), false);
    for (const int j : rest_index) {
      if (j < 0) continue;
      if (j >= rest_count || seen[static_cast<size_t>(j)])
        fail(path, "f_rest_* indices are not exactly 0.." + std::to_string(rest_count - 1) +
                       " (f_rest_" + std::to_string(j) + " is out of range or repeated)");
      seen[static_cast<size_t>(j)] = true;
    }
  }

  const size_t n = static_cast<size_t>(vertex.count);
  const int K = sh_coeff_count(degree);

  // Refuse impossible counts before allocating anything for them.
  const uint64_t available = file_size > h.data_offset ? file_size - h.data_offset : 0;
  {
    long double need = 0;  // long double: counts from a corrupt header may overflow uint64
    for (size_t i = 0; i <= vi; ++i) {
      const Element& e = h.elements[i];
      const long double per = h.format == PlyFormat::ascii
                                  ? 2.0L * static_cast<long double>(e.props.size())
                                  : static_cast<long double>(e.min_record_bytes());
      need += per * static_cast<long double>(e.count);
    }
    if (need > static_cast<long double>(available))
      fail(path,
           "truncated: the header declares " + element_summary(vertex) + " needing at least " +
               std::to_string(static_cast<unsigned long long>(std::min<long double>(
                   need, static_cast<long double>(std::numeric_limits<uint64_t>::max())))) +
               " data bytes, but the file has " + std::to_string(available),
           "the file was cut off while copying or writing; re-export or re-download it");
  }

  GaussianCloud cloud;
  cloud.resize(n, degree);
  std::vector<Target> targets(vertex.props.size());
  std::vector<bool> found(14, false);  // x y z, dc 0..2, opacity, scale 0..2, rot 0..3
  const char* required[14] = {"x",       "y",       "z",       "f_dc_0",  "f_dc_1",
                              "f_dc_2",  "opacity", "scale_0", "scale_1", "scale_2",
                              "rot_0",   "rot_1",   "rot_2",   "rot_3"};
  for (size_t p = 0; p < vertex.props.size(); ++p) {
    const Property& prop = vertex.props[p];
    Target t;
    if (rest_index[p] >= 0) {
      const int j = rest_index[p];
      const int c = j / (K - 1), k = j % (K - 1) + 1;  // channel-major, see ply_io.h
      t = {&cloud.sh, static_cast<size_t>(K) * 3, static_cast<size_t>(k * 3 + c)};
    } else {
      for (int r = 0; r < 14; ++r) {
        if (prop.name != required[r]) continue;
        found[r] = true;
        if (r < 3) t = {&cloud.means, 3, static_cast<size_t>(r)};
        else if (r < 6) t = {&cloud.sh, static_cast<size_t>(K) * 3, static_cast<size_t>(r - 3)};
        else if (r == 6) t = {&cloud.opacity_logits, 1, 0};
        else if (r < 10) t = {&cloud.log_scales, 3, static_cast<size_t>(r - 7)};
        else t = {&cloud.quats, 4, static_cast<size_t>(r - 10)};
      }
    }
    if (t.base && prop.is_list)
      fail(path, "vertex property '" + prop.name + "' is a list; it must be a single number");
    targets[p] = t;
  }
  for (int r = 0; r < 14; ++r)
    if (!found[r])
      fail(path, std::string("the vertex element has no property '") + required[r] + "'" +
                     (r >= 3 && r < 6 ? " (this looks like a plain point cloud, not Gaussians)"
                                      : ""));

  in.clear();
  in.seekg(static_cast<std::streamoff>(h.data_offset));
  ByteSource src(in);

  if (h.format == PlyFormat::binary_le) {
    auto truncated = [&](const Element& e, uint64_t i) {
      fail(path,
           "truncated: data ends in record " + std::to_string(i) + " of " + element_summary(e),
           "the file was cut off while copying or writing; re-export or re-download it");
    };
    // Elements before the vertex element are skipped record by record (lists have variable
    // length, so their count fields must be read).
    for (size_t ei = 0; ei < vi; ++ei) {
      const Element& e = h.elements[ei];
      if (!e.has_lists()) {
        if (!src.skip(e.count * e.min_record_bytes())) truncated(e, 0);
        continue;
      }
      for (uint64_t i = 0; i < e.count; ++i)
        for (const Property& p : e.props) {
          if (!p.is_list) {
            if (!src.skip(type_size(p.type))) truncated(e, i);
            continue;
          }
          const char* c = src.take(type_size(p.count_type));
          if (!c) truncated(e, i);
          const double items = decode(p.count_type, c);
          if (items < 0) fail(path, "negative list length in " + element_summary(e));
          if (!src.skip(static_cast<uint64_t>(items) * type_size(p.type))) truncated(e, i);
        }
    }
    const bool fixed = !vertex.has_lists();
    const size_t record = vertex.min_record_bytes();
    std::vector<size_t> offsets(vertex.props.size());
    for (size_t p = 0, o = 0; p < vertex.props.size(); ++p) {
      offsets[p] = o;
      o += type_size(vertex.props[p].type);
    }
    for (size_t i = 0; i < n; ++i) {
      if (fixed) {
        const char* rec = src.take(record);
        if (!rec) truncated(vertex, i);
        for (size_t p = 0; p < targets.size(); ++p) {
          const Target& t = targets[p];
          if (t.base)
            (*t.base)[i * t.stride + t.offset] =
                static_cast<float>(decode(vertex.props[p].type, rec + offsets[p]));
        }
        continue;
      }
      for (size_t p = 0; p < targets.size(); ++p) {
        const Property& prop = vertex.props[p];
        if (prop.is_list) {
          const char* c = src.take(type_size(prop.count_type));
          if (!c) truncated(vertex, i);
          const double items = decode(prop.count_type, c);
          if (items < 0) fail(path, "negative list length in " + element_summary(vertex));
          if (!src.skip(static_cast<uint64_t>(items) * type_size(prop.type)))
            truncated(vertex, i);
          continue;
        }
        const char* v = src.take(type_size(prop.type));
        if (!v) truncated(vertex, i);
        const Target& t = targets[p];
        if (t.base) (*t.base)[i * t.stride + t.offset] = static_cast<float>(decode(prop.type, v));
      }
    }
  } else {
    TokenSource tokens(src);
    std::string tok;
    double value = 0;
    auto read_value = [&](const Element& e, uint64_t i, const std::string& prop) {
      if (!tokens.next(tok))
        fail(path,
             "truncated: ASCII data ends in record " + std::to_string(i) + " of " +
                 element_summary(e),
             "the file was cut off while copying or writing; re-export or re-download it");
      if (!parse_number(tok, value))
        fail(path, "'" + tok + "' is not a number (property '" + prop + "' of record " +
                       std::to_string(i) + " of " + element_summary(e) + ")");
      return value;
    };
    for (size_t ei = 0; ei <= vi; ++ei) {
      const Element& e = h.elements[ei];
      const bool is_vertex = ei == vi;
      for (uint64_t i = 0; i < e.count; ++i)
        for (size_t p = 0; p < e.props.size(); ++p) {
          const Property& prop = e.props[p];
          if (prop.is_list) {
            const double items = read_value(e, i, prop.name);
            if (!(items >= 0) || items != std::floor(items) || items > 1e9)
              fail(path, "bad list length '" + tok + "' in " + element_summary(e));
            for (uint64_t k = 0; k < static_cast<uint64_t>(items); ++k)
              read_value(e, i, prop.name);
            continue;
          }
          const double v = read_value(e, i, prop.name);
          if (is_vertex && targets[p].base) {
            const Target& t = targets[p];
            (*t.base)[i * t.stride + t.offset] = static_cast<float>(v);
          }
        }
    }
  }

  size_t saturated = 0;
  for (float& o : cloud.opacity_logits)
    if (std::isinf(o)) {
      o = o > 0 ? kSaturatedOpacityLogit : -kSaturatedOpacityLogit;
      ++saturated;
    }
  if (saturated > 0)
    log_info(path, ": ", saturated, " opacity logits of ±inf (saturated opacity) read as ±",
             kSaturatedOpacityLogit);
  if (const size_t bad = cloud.count_nonfinite(); bad > 0)
    log_warn(path, ": ", bad, " of ", n,
             " Gaussians have NaN or infinite parameters; the rasterizer will skip them");
  return cloud;
}

void write_ply(const std::string& path, const GaussianCloud& cloud) {
  cloud.check_valid("write_ply(" + path + ")");
  const size_t n = cloud.size();
  const int K = cloud.coeffs();
  const int rest = 3 * (K - 1);

  std::ostringstream header;
  header << "ply\nformat binary_little_endian 1.0\ncomment written by gstrain\n"
         << "element vertex " << n << "\n";
  for (const char* name : {"x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"})
    header << "property float " << name << "\n";
  for (int j = 0; j < rest; ++j) header << "property float f_rest_" << j << "\n";
  for (const char* name :
       {"opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"})
    header << "property float " << name << "\n";
  header << "end_header\n";
  const std::string head = header.str();

  std::error_code ec;
  const fs::path target(path);
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec)
      throw IoError(path + ": cannot create the directory " + target.parent_path().string() +
                        ": " + ec.message(),
                    "choose an output path you can write to");
  }
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
    const size_t floats_per = 17 + static_cast<size_t>(rest);
    constexpr size_t kChunk = 8192;  // vertices per write: bounded memory for any N
    std::vector<float> rows;
    rows.reserve(kChunk * floats_per);
    for (size_t start = 0; start < n && out; start += kChunk) {
      const size_t end = std::min(n, start + kChunk);
      rows.clear();
      for (size_t i = start; i < end; ++i) {
        const float* sh = &cloud.sh[i * static_cast<size_t>(K) * 3];
        rows.insert(rows.end(), &cloud.means[i * 3], &cloud.means[i * 3] + 3);
        rows.insert(rows.end(), {0.f, 0.f, 0.f});  // normals: unused by 3DGS, kept for viewers
        rows.insert(rows.end(), sh, sh + 3);
        for (int c = 0; c < 3; ++c)
          for (int k = 1; k < K; ++k) rows.push_back(sh[k * 3 + c]);
        rows.push_back(cloud.opacity_logits[i]);
        rows.insert(rows.end(), &cloud.log_scales[i * 3], &cloud.log_scales[i * 3] + 3);
        rows.insert(rows.end(), &cloud.quats[i * 4], &cloud.quats[i * 4] + 4);
      }
      out.write(reinterpret_cast<const char*>(rows.data()),
                static_cast<std::streamsize>(rows.size() * sizeof(float)));
    }
  });
}

}  // namespace gs
