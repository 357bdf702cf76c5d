// The configuration schema: every key with its accepted range, listed once and used both to read
// (checked, with overrides) and to write YAML; plus the checks that span several fields.
#include "config/config.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "config/config_reader.h"
#include "config/config_writer.h"

namespace gs {

using config_detail::ConfigSource;
using config_detail::IntRange;
using config_detail::RealRange;
using config_detail::SectionReader;
using config_detail::SectionWriter;

namespace {

const std::vector<std::pair<const char*, SceneKind>> kSceneNames = {
    {"static", SceneKind::static_scene},
    {"deformable", SceneKind::deformable},
    {"omnire", SceneKind::omnire}};

const std::vector<std::pair<const char*, NodeKind>> kNodeKindNames = {
    {"background", NodeKind::background}, {"rigid", NodeKind::rigid},
    {"deformable", NodeKind::deformable}, {"skeleton", NodeKind::skeleton},
    {"sky", NodeKind::sky}};

const std::vector<std::string> kDataFormats = {"auto",  "nerf",   "colmap",   "ngp",
                                               "dnerf", "street", "generated"};
const std::vector<std::string> kBackgrounds = {"white", "black"};
const std::vector<std::string> kImageCaches = {"auto", "host", "device"};
const std::vector<std::string> kAllocators = {"cuda_malloc", "stream_pool"};

// Generous but finite bounds: they catch typos (an extra zero, a negative) without second-guessing
// a user's experiment. Step counts up to 10M, Gaussian counts up to 1e9 (int32-safe per node).
constexpr int64_t kMaxSteps = 10'000'000;
constexpr int64_t kMaxGaussians = 1'000'000'000;
constexpr RealRange kLearningRate{0.0, 1.0};

// V is SectionReader (parse) or SectionWriter (config_to_yaml): one list, so the two cannot drift.
template <class V>
void visit(V& v, DataConfig& d) {
  v.field("path", d.path);
  v.choice("format", d.format, kDataFormats);
  v.field("width", d.width, IntRange{0, 16384});
  v.field("height", d.height, IntRange{0, 16384});
  v.field("downscale", d.downscale, IntRange{1, 64});
  v.choice("background", d.background, kBackgrounds);
  v.field("cameras", d.cameras, IntRange{1, 16});
  v.field("frames", d.frames, IntRange{1, 1'000'000});
  v.field("start_frame", d.start_frame, IntRange{0, 1'000'000});
  v.field("end_frame", d.end_frame, IntRange{-1, 1'000'000});
  v.field("test_every", d.test_every, IntRange{1, 1'000'000});
  v.choice("image_cache", d.image_cache, kImageCaches);
}

template <class V>
void visit(V& v, TrainConfig& t) {
  v.field("iterations", t.iterations, IntRange{1, kMaxSteps});
  v.field("sh_increase_every", t.sh_increase_every, IntRange{1, kMaxSteps});
  v.field("lambda_dssim", t.lambda_dssim, RealRange{0.0, 1.0});
  v.field("seed", t.seed);
  v.field("log_every", t.log_every, IntRange{1, kMaxSteps});
  v.field("test_every", t.test_every, IntRange{1, kMaxSteps});
  v.field("save_every", t.save_every, IntRange{1, kMaxSteps});
  v.field("antialias", t.antialias);
  v.field("lr_position_init", t.lr_position_init, kLearningRate);
  v.field("lr_position_final", t.lr_position_final, kLearningRate);
  v.field("lr_scale", t.lr_scale, kLearningRate);
  v.field("lr_rotation", t.lr_rotation, kLearningRate);
  v.field("lr_opacity", t.lr_opacity, kLearningRate);
  v.field("lr_sh_dc", t.lr_sh_dc, kLearningRate);
  v.field("lr_sh_rest", t.lr_sh_rest, kLearningRate);
  v.field("divergence_factor", t.divergence_factor, RealRange{1.0, 1e6, true});
  v.field("divergence_steps", t.divergence_steps, IntRange{1, kMaxSteps});
  v.field("sharp_shape_weight", t.sharp_shape_weight, RealRange{0.0, 1000.0});
  v.field("sharp_shape_ratio", t.sharp_shape_ratio, RealRange{1.0, 1e6});
  v.field("sharp_shape_every", t.sharp_shape_every, IntRange{1, kMaxSteps});
}

template <class V>
void visit(V& v, DensifyConfig& d) {
  v.field("absgrad", d.absgrad);
  v.field("start", d.start, IntRange{0, kMaxSteps});
  v.field("stop", d.stop, IntRange{1, kMaxSteps});
  v.field("every", d.every, IntRange{1, kMaxSteps});
  v.field("opacity_reset_every", d.opacity_reset_every, IntRange{1, kMaxSteps});
  v.field("min_opacity", d.min_opacity, RealRange{0.0, 0.99});
  v.field("percent_dense", d.percent_dense, RealRange{0.0, 1.0, true});
  v.field("prune_screen_fraction", d.prune_screen_fraction, RealRange{0.0, 1.0});
  v.field("split_screen_fraction", d.split_screen_fraction, RealRange{0.0, 1.0});
  v.field("screen_size_stop", d.screen_size_stop, IntRange{0, kMaxSteps});
  v.field("pause_after_reset", d.pause_after_reset);
  v.field("prune_floor", d.prune_floor, RealRange{0.0, 1.0});
}

template <class V>
void visit(V& v, DeformConfig& d) {
  v.field("depth", d.depth, IntRange{1, 16});
  v.field("width", d.width, IntRange{8, 1024});
  v.field("skip_layer", d.skip_layer, IntRange{0, 16});
  v.field("position_frequencies", d.position_frequencies, IntRange{0, 20});
  v.field("time_frequencies", d.time_frequencies, IntRange{0, 20});
  v.field("warmup_steps", d.warmup_steps, IntRange{0, kMaxSteps});
  v.field("chunk_size", d.chunk_size, IntRange{0, kMaxGaussians});
  v.field("lr", d.lr, kLearningRate);
  v.field("lr_final", d.lr_final, kLearningRate);
  v.field("time_noise", d.time_noise);
  v.field("export_time", d.export_time, RealRange{0.0, 1.0});
}

template <class V>
void visit(V& v, MemoryConfig& m) {
  v.field("budget_gb", m.budget_gb, RealRange{0.01, 1024.0});
  v.field("safety_margin", m.safety_margin, RealRange{0.0, 0.9});
  v.field("enforce", m.enforce);
  v.field("log_every", m.log_every, IntRange{1, kMaxSteps});
  v.field("context_gb", m.context_gb, RealRange{0.0, 64.0});
  v.choice("allocator", m.allocator, kAllocators);
}

template <class V>
void visit(V& v, NodeConfig& n) {
  v.choice("kind", n.kind, kNodeKindNames);
  v.field("sh_degree", n.sh_degree, IntRange{0, 3});
  v.field("priority", n.priority, IntRange{0, 100});
  // 0 is allowed for sky (no Gaussians); nodes with Gaussians are checked for > 0 below.
  v.field("share", n.share, RealRange{0.0, 1000.0});
  v.field("max_gaussians", n.max_gaussians, IntRange{0, kMaxGaussians});
  v.field("init_points", n.init_points, IntRange{0, kMaxGaussians});
  v.field("grad_threshold", n.grad_threshold, RealRange{0.0, 1.0, true});
  v.field("instances", n.instances, IntRange{1, 10000});
  v.field("env_map_resolution", n.env_map_resolution, IntRange{16, 8192});
  v.field("densify_stop", n.densify_stop, IntRange{0, kMaxSteps});
  v.field("screen_size_stop", n.screen_size_stop, IntRange{0, kMaxSteps});
  v.field("near_random_points", n.near_random_points, IntRange{0, kMaxGaussians});
  v.field("far_random_points", n.far_random_points, IntRange{0, kMaxGaussians});
  v.field("body_model", n.body_model);
}

template <class V>
void visit(V& v, Config& c) {
  v.field("name", c.name);
  v.choice("scene", c.scene, kSceneNames);
  v.field("device", c.device);
  v.field("out_dir", c.out_dir);
  v.section("data", [&](V& s) { visit(s, c.data); });
  v.section("train", [&](V& s) { visit(s, c.train); });
  v.section("densify", [&](V& s) { visit(s, c.densify); });
  v.section("deform", [&](V& s) { visit(s, c.deform); });
  v.section("memory", [&](V& s) { visit(s, c.memory); });
  v.named_sections("nodes", c.nodes, [](V& s, NodeConfig& n) { visit(s, n); });
}

bool valid_device_spec(const std::string& spec) {
  if (spec == "auto" || spec == "cpu" || spec == "cuda") return true;
  if (spec.size() <= 5 || spec.compare(0, 5, "cuda:") != 0) return false;
  for (size_t i = 5; i < spec.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(spec[i]))) return false;
  return spec.size() <= 8;  // cuda:0 .. cuda:999
}

// Node names are addressed by overrides (nodes.<name>.sh_degree) and appear in logs and file
// names, so keep them to one plain word.
bool valid_node_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

bool kind_allowed(SceneKind scene, NodeKind kind) {
  switch (scene) {
    case SceneKind::static_scene:
      return kind == NodeKind::background || kind == NodeKind::sky;
    case SceneKind::deformable:
      return kind == NodeKind::background || kind == NodeKind::deformable ||
             kind == NodeKind::sky;
    case SceneKind::omnire:
      return true;
  }
  return false;
}

const char* allowed_kinds_text(SceneKind scene) {
  switch (scene) {
    case SceneKind::static_scene:
      return "background and sky";
    case SceneKind::deformable:
      return "background, deformable and sky";
    case SceneKind::omnire:
      return "every kind";
  }
  return "";
}

// Relations between fields that no single range can express.
void check_consistency(const Config& c, ConfigSource& source) {
  if (!valid_device_spec(c.device))
    source.error("device", "'device' must be auto, cpu, cuda or cuda:N, got '" + c.device + "'");
  if (c.out_dir.empty()) source.error("out_dir", "'out_dir' must not be empty");

  if (c.nodes.empty()) {
    source.error("nodes", "at least one scene node is required under 'nodes:' (e.g. "
                          "'nodes: {background: {kind: background}}')");
    return;
  }
  const std::string scene = to_string(c.scene);
  int sky_nodes = 0, background_nodes = 0, deformable_nodes = 0;
  for (const NodeConfig& n : c.nodes) {
    const std::string path = "nodes." + n.name;
    if (!valid_node_name(n.name))
      source.error(path, "node name '" + n.name +
                             "' must be letters, digits, '_' or '-' (it is addressed as "
                             "nodes.<name>.<key> in --set)");
    if (!kind_allowed(c.scene, n.kind))
      source.error(path + ".kind", "node '" + n.name + "' is " + to_string(n.kind) + ", but " +
                                       scene + " scenes take only " +
                                       allowed_kinds_text(c.scene) +
                                       " nodes (rigid and skeleton nodes need scene: omnire)");
    if (n.kind != NodeKind::sky && !(n.share > 0.0))
      source.error(path + ".share", "'" + path + ".share' must be > 0 for a node with Gaussians");
    const bool has_instances = n.kind == NodeKind::rigid || n.kind == NodeKind::deformable ||
                               n.kind == NodeKind::skeleton;
    if (!has_instances && n.instances != 1)
      source.error(path + ".instances", "'" + path + ".instances' must be 1 for a " +
                                            to_string(n.kind) + " node (only rigid, deformable "
                                            "and skeleton nodes have instances)");
    for (const auto& [key, value] : {std::pair<const char*, int64_t>{"near_random_points",
                                                                     n.near_random_points},
                                     {"far_random_points", n.far_random_points}})
      if (value > 0 && (n.kind != NodeKind::background || c.scene != SceneKind::omnire))
        source.error(path + "." + key, "'" + path + "." + key + "' is for the background node "
                                       "of a street (omnire) scene; remove it here");
    sky_nodes += n.kind == NodeKind::sky;
    background_nodes += n.kind == NodeKind::background;
    deformable_nodes += n.kind == NodeKind::deformable;
  }
  if (sky_nodes > 1) source.error("nodes", "at most one sky node is allowed");
  if (c.scene == SceneKind::static_scene && background_nodes == 0)
    source.error("nodes", "a static scene needs a background node");
  if (c.scene == SceneKind::deformable && deformable_nodes == 0)
    source.error("nodes", "a deformable scene needs a node of kind deformable");
  if (c.scene == SceneKind::omnire && background_nodes == 0)
    source.error("nodes", "an omnire scene needs a background node");
  if (c.scene == SceneKind::omnire && c.data.format != "auto" && c.data.format != "street" &&
      c.data.format != "generated")
    source.error("data.format", "omnire scenes need street data (format street, generated or "
                                "auto), got '" + c.data.format + "'");

  if (c.densify.start >= c.densify.stop)
    source.error("densify.start", "'densify.start' (" + std::to_string(c.densify.start) +
                                      ") must be less than 'densify.stop' (" +
                                      std::to_string(c.densify.stop) + ")");
  if (c.deform.skip_layer >= c.deform.depth)
    source.error("deform.skip_layer", "'deform.skip_layer' (" +
                                          std::to_string(c.deform.skip_layer) +
                                          ") must be less than 'deform.depth' (" +
                                          std::to_string(c.deform.depth) + ")");
}

}  // namespace

const char* to_string(SceneKind kind) {
  for (const auto& [name, k] : kSceneNames)
    if (k == kind) return name;
  return "unknown";
}

const char* to_string(NodeKind kind) {
  for (const auto& [name, k] : kNodeKindNames)
    if (k == kind) return name;
  return "unknown";
}

const NodeConfig* Config::find_node(const std::string& node_name) const {
  for (const NodeConfig& n : nodes)
    if (n.name == node_name) return &n;
  return nullptr;
}

Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides) {
  ConfigSource source(origin);
  YAML::Node root = source.parse(yaml_text);
  for (const std::string& o : overrides) source.apply_override(root, o);
  source.throw_if_errors();  // a broken tree would only add follow-on noise

  Config config;
  SectionReader reader(source, root, "");
  visit(reader, config);
  reader.finish();
  source.report_unknown_keys();
  source.throw_if_errors();  // cross-field checks assume every field is in range
  check_consistency(config, source);
  source.throw_if_errors();
  config.source_file = origin;
  return config;
}

Config load_config(const std::string& name_or_path, const std::vector<std::string>& overrides) {
  const std::string path = resolve_config_path(name_or_path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("config '" + path + "' could not be read", "check its permissions");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, overrides);
}

std::string config_to_yaml(const Config& config) {
  Config copy = config;  // the field list takes non-const references (it also reads)
  YAML::Emitter out;
  out << YAML::BeginMap;
  SectionWriter writer(out);
  visit(writer, copy);
  out << YAML::EndMap;
  return std::string("# gstrain configuration, fully resolved: every key with its value.\n") +
         "# Loads back as is: gstrain --config <this file>\n" + out.c_str() + "\n";
}

}  // namespace gs
