// Checkpoint file format (little-endian): "GSCKPT02", u64 header length, JSON header, then per
// node and group the params, Adam m and Adam v rows (count × row floats each), then the three
// statistics arrays (count floats each) and, for tagged nodes, the int32 tags, then each named tensor (its floats), then "GSEND002"
// and the CRC-32 (zlib) of every byte before the end marker, as u32. Version 1 files ("GSCKPT01"
// ... "GSEND001", no checksum) still load, with a warning.
#include "formats/checkpoint.h"

#include <cstdio>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <zlib.h>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/logging.h"

namespace gs {

namespace {
constexpr char kMagic[9] = "GSCKPT02";
constexpr char kEnd[9] = "GSEND002";
constexpr char kMagicV1[9] = "GSCKPT01";  // no checksum
constexpr char kEndV1[9] = "GSEND001";

// CRC-32 over any number of bytes (zlib's crc32 takes a 32-bit length).
uint32_t crc_update(uint32_t crc, const void* p, size_t n) {
  const Bytef* b = static_cast<const Bytef*>(p);
  while (n > 0) {
    const uInt chunk = uInt(std::min<size_t>(n, size_t(1) << 30));
    crc = uint32_t(crc32(crc, b, chunk));
    b += chunk;
    n -= chunk;
  }
  return crc;
}

struct Writer {
  std::ostream& out;
  uint32_t crc = uint32_t(crc32(0L, Z_NULL, 0));
  void bytes(const void* p, size_t n) {
    out.write(static_cast<const char*>(p), std::streamsize(n));
    crc = crc_update(crc, p, n);
  }
};

struct Reader {
  std::ifstream in;
  const std::string& path;
  uint32_t crc = uint32_t(crc32(0L, Z_NULL, 0));
  void exact(void* p, size_t n, const char* what) {
    in.read(static_cast<char*>(p), std::streamsize(n));
    if (size_t(in.gcount()) != n)
      throw IoError("checkpoint '" + path + "' is truncated (while reading " + what + ")",
                    "delete it and restart, or resume from an older checkpoint");
    crc = crc_update(crc, p, n);
  }
};
}  // namespace

void save_checkpoint(const std::string& path, int step, const std::vector<GaussianModel*>& nodes,
                     const nlohmann::json& trainer_state,
                     const std::vector<CheckpointTensor>& tensors) {
  nlohmann::json header;
  header["version"] = 1;
  header["step"] = step;
  header["trainer_state"] = trainer_state;
  for (const GaussianModel* m : nodes)
    header["nodes"].push_back(
        {{"name", m->name()}, {"sh_degree", m->sh_degree()}, {"count", m->count()},
         {"tagged", m->tagged()}});
  for (const CheckpointTensor& t : tensors)
    header["tensors"].push_back({{"name", t.name}, {"count", t.buffer->size()}});
  const std::string text = header.dump();

  write_file_atomic(path, [&](std::ostream& out) {
    Writer w{out};
    w.bytes(kMagic, 8);
    const uint64_t len = text.size();
    w.bytes(&len, 8);
    w.bytes(text.data(), text.size());
    for (GaussianModel* m : nodes) {
      const size_t n = m->count();
      m->with_host_arrays(
          [&](ModelHostArrays& a) {
            for (int g = 0; g < kNumGaussianParams; ++g) {
              const size_t row = group_row_floats(GaussianParam(g), m->sh_degree());
              w.bytes(a.params[g], n * row * 4);
              w.bytes(a.adam_m[g], n * row * 4);
              w.bytes(a.adam_v[g], n * row * 4);
            }
            w.bytes(a.absgrad_accum, n * 4);
            w.bytes(a.grad_count, n * 4);
            w.bytes(a.max_screen_size, n * 4);
          if (a.tags) w.bytes(a.tags, n * 4);
          },
          false, n);
    }
    for (const CheckpointTensor& t : tensors) {
      const std::vector<float> host = t.buffer->to_host();
      w.bytes(host.data(), host.size() * 4);
    }
    const uint32_t crc = w.crc;
    w.bytes(kEnd, 8);
    w.bytes(&crc, 4);
  });
}

LoadedCheckpoint load_checkpoint(const std::string& path, const std::vector<GaussianModel*>& nodes,
                                 const std::vector<CheckpointTensor>& tensors) {
  Reader r{std::ifstream(path, std::ios::binary), path};
  if (!r.in) throw IoError("cannot open checkpoint '" + path + "'", "check the --out directory");
  char magic[8];
  r.exact(magic, 8, "the magic");
  const bool v1 = std::memcmp(magic, kMagicV1, 8) == 0;
  if (!v1 && std::memcmp(magic, kMagic, 8) != 0)
    throw IoError("'" + path + "' is not a gstrain checkpoint (bad magic)");
  if (v1) log_warn("checkpoint '", path, "' is version 1 (no checksum): it cannot be verified");
  uint64_t len = 0;
  r.exact(&len, 8, "the header length");
  if (len > (uint64_t(64) << 20)) throw IoError("checkpoint '" + path + "' has a corrupt header");
  std::string text(len, '\0');
  r.exact(text.data(), len, "the header");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw IoError("checkpoint '" + path + "' has a corrupt header: " + e.what());
  }
  const auto& saved = header.at("nodes");
  if (saved.size() != nodes.size())
    throw IoError("checkpoint '" + path + "' has " + std::to_string(saved.size()) +
                      " nodes, the config has " + std::to_string(nodes.size()),
                  "resume with the config the run was started with");
  for (size_t k = 0; k < nodes.size(); ++k) {
    GaussianModel* m = nodes[k];
    const auto& s = saved[k];
    const std::string name = s.at("name");
    const int degree = s.at("sh_degree");
    const size_t n = s.at("count");
    if (name != m->name() || degree != m->sh_degree())
      throw IoError("checkpoint '" + path + "': node " + std::to_string(k) + " is '" + name +
                        "' at SH " + std::to_string(degree) + ", the config has '" + m->name() +
                        "' at SH " + std::to_string(m->sh_degree()),
                    "resume with the config the run was started with");
    if (s.value("tagged", false) != m->tagged())
      throw IoError("checkpoint '" + path + "': node '" + name + "' " +
                        (m->tagged() ? "has no instance tags" : "has unexpected instance tags"),
                    "resume with the config the run was started with");
    if (n > m->capacity())
      throw IoError("checkpoint '" + path + "': node '" + name + "' has " + std::to_string(n) +
                        " Gaussians, more than its planned capacity " +
                        std::to_string(m->capacity()),
                    "resume with a memory budget at least as large as the original run's");
    m->with_host_arrays(
        [&](ModelHostArrays& a) {
          for (int g = 0; g < kNumGaussianParams; ++g) {
            const size_t row = group_row_floats(GaussianParam(g), degree);
            r.exact(a.params[g], n * row * 4, "parameters");
            r.exact(a.adam_m[g], n * row * 4, "Adam moments");
            r.exact(a.adam_v[g], n * row * 4, "Adam moments");
          }
          r.exact(a.absgrad_accum, n * 4, "statistics");
          r.exact(a.grad_count, n * 4, "statistics");
          r.exact(a.max_screen_size, n * 4, "statistics");
          if (a.tags) r.exact(a.tags, n * 4, "instance tags");
        },
        true, std::max(n, m->count()));
    m->set_count(n);
  }
  const nlohmann::json saved_tensors = header.value("tensors", nlohmann::json::array());
  if (saved_tensors.size() != tensors.size())
    throw IoError("checkpoint '" + path + "' holds " + std::to_string(saved_tensors.size()) +
                      " extra tensors, the run expects " + std::to_string(tensors.size()),
                  "resume with the config the run was started with");
  for (size_t k = 0; k < tensors.size(); ++k) {
    const std::string name = saved_tensors[k].at("name");
    const size_t count = saved_tensors[k].at("count");
    if (name != tensors[k].name || count != tensors[k].buffer->size())
      throw IoError("checkpoint '" + path + "': tensor " + std::to_string(k) + " is '" + name +
                        "' of " + std::to_string(count) + " floats, the run expects '" +
                        tensors[k].name + "' of " + std::to_string(tensors[k].buffer->size()),
                    "resume with the config the run was started with");
    std::vector<float> host(count);
    r.exact(host.data(), count * 4, name.c_str());
    copy_bytes(tensors[k].buffer->device(), tensors[k].buffer->data(), Device::cpu(), host.data(),
               count * 4);
  }
  const uint32_t computed = r.crc;
  char end[8];
  r.exact(end, 8, "the end marker");
  if (std::memcmp(end, v1 ? kEndV1 : kEnd, 8) != 0)
    throw IoError("checkpoint '" + path + "' is corrupt (end marker)",
                  "delete it and restart, or resume from a copy of an older checkpoint");
  if (!v1) {
    uint32_t stored = 0;
    r.exact(&stored, 4, "the checksum");
    if (stored != computed) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), " (CRC-32 %08x, the file says %08x)", computed, stored);
      throw IoError("checkpoint '" + path + "' is corrupted: its checksum does not match" + buf,
                    "the file was damaged after it was written; delete it and restart, or resume "
                    "from a copy of an older checkpoint");
    }
  }
  LoadedCheckpoint out;
  out.step = header.at("step");
  out.trainer_state = header.value("trainer_state", nlohmann::json::object());
  return out;
}

}  // namespace gs
