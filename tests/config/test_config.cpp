// Configuration loading: every error names where and what is accepted, overrides behave like
// file values, config_to_yaml round-trips, and the 12 presets load by bare name from anywhere.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "core/errors.h"
#include "config/config.h"

using namespace gs;

namespace {

const char* kMinimal =
    "scene: static\n"
    "nodes:\n"
    "  background:\n"
    "    kind: background\n";

// The ConfigError message of parsing `yaml` (with overrides); fails the test if it parses.
std::string config_error(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(yaml, "inline.yaml", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("expected a ConfigError for:\n" << yaml);
  return "";
}

// Restores the working directory when the test ends, pass or fail.
struct ScopedChdir {
  explicit ScopedChdir(const std::filesystem::path& dir)
      : saved(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~ScopedChdir() { std::filesystem::current_path(saved); }
  std::filesystem::path saved;
};

void require_same(const NodeConfig& a, const NodeConfig& b) {
  CHECK(a.name == b.name);
  CHECK(a.kind == b.kind);
  CHECK(a.sh_degree == b.sh_degree);
  CHECK(a.priority == b.priority);
  CHECK(a.share == b.share);
  CHECK(a.max_gaussians == b.max_gaussians);
  CHECK(a.init_points == b.init_points);
  CHECK(a.grad_threshold == b.grad_threshold);
  CHECK(a.instances == b.instances);
  CHECK(a.env_map_resolution == b.env_map_resolution);
}

// Field by field (not through config_to_yaml), so a field the writer forgot shows up here.
void require_same(const Config& a, const Config& b) {
  CHECK(a.name == b.name);
  CHECK(a.scene == b.scene);
  CHECK(a.device == b.device);
  CHECK(a.out_dir == b.out_dir);
  CHECK(a.data.path == b.data.path);
  CHECK(a.data.format == b.data.format);
  CHECK(a.data.width == b.data.width);
  CHECK(a.data.height == b.data.height);
  CHECK(a.data.downscale == b.data.downscale);
  CHECK(a.data.background == b.data.background);
  CHECK(a.data.cameras == b.data.cameras);
  CHECK(a.data.frames == b.data.frames);
  CHECK(a.data.test_every == b.data.test_every);
  CHECK(a.data.image_cache == b.data.image_cache);
  CHECK(a.train.iterations == b.train.iterations);
  CHECK(a.train.sh_increase_every == b.train.sh_increase_every);
  CHECK(a.train.lambda_dssim == b.train.lambda_dssim);
  CHECK(a.train.seed == b.train.seed);
  CHECK(a.train.log_every == b.train.log_every);
  CHECK(a.train.test_every == b.train.test_every);
  CHECK(a.train.save_every == b.train.save_every);
  CHECK(a.train.antialias == b.train.antialias);
  CHECK(a.train.lr_position_init == b.train.lr_position_init);
  CHECK(a.train.lr_position_final == b.train.lr_position_final);
  CHECK(a.train.lr_scale == b.train.lr_scale);
  CHECK(a.train.lr_rotation == b.train.lr_rotation);
  CHECK(a.train.lr_opacity == b.train.lr_opacity);
  CHECK(a.train.lr_sh_dc == b.train.lr_sh_dc);
  CHECK(a.train.lr_sh_rest == b.train.lr_sh_rest);
  CHECK(a.train.divergence_factor == b.train.divergence_factor);
  CHECK(a.train.divergence_steps == b.train.divergence_steps);
  CHECK(a.densify.absgrad == b.densify.absgrad);
  CHECK(a.densify.start == b.densify.start);
  CHECK(a.densify.stop == b.densify.stop);
  CHECK(a.densify.every == b.densify.every);
  CHECK(a.densify.opacity_reset_every == b.densify.opacity_reset_every);
  CHECK(a.densify.min_opacity == b.densify.min_opacity);
  CHECK(a.densify.percent_dense == b.densify.percent_dense);
  CHECK(a.densify.prune_screen_fraction == b.densify.prune_screen_fraction);
  CHECK(a.densify.prune_floor == b.densify.prune_floor);
  CHECK(a.deform.depth == b.deform.depth);
  CHECK(a.deform.width == b.deform.width);
  CHECK(a.deform.skip_layer == b.deform.skip_layer);
  CHECK(a.deform.position_frequencies == b.deform.position_frequencies);
  CHECK(a.deform.time_frequencies == b.deform.time_frequencies);
  CHECK(a.deform.warmup_steps == b.deform.warmup_steps);
  CHECK(a.deform.chunk_size == b.deform.chunk_size);
  CHECK(a.deform.lr == b.deform.lr);
  CHECK(a.deform.time_noise == b.deform.time_noise);
  CHECK(a.memory.budget_gb == b.memory.budget_gb);
  CHECK(a.memory.safety_margin == b.memory.safety_margin);
  CHECK(a.memory.enforce == b.memory.enforce);
  CHECK(a.memory.log_every == b.memory.log_every);
  CHECK(a.memory.context_gb == b.memory.context_gb);
  REQUIRE(a.nodes.size() == b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) require_same(a.nodes[i], b.nodes[i]);
}

}  // namespace

TEST_CASE("a minimal config takes the defaults", "[config]") {
  const Config c = parse_config(kMinimal, "inline.yaml");
  CHECK(c.source_file == "inline.yaml");
  CHECK(c.scene == SceneKind::static_scene);
  CHECK(c.train.iterations == 30000);
  CHECK(c.memory.budget_gb == 12.0);
  REQUIRE(c.nodes.size() == 1);
  CHECK(c.nodes[0].name == "background");
  CHECK(c.nodes[0].sh_degree == 3);
  REQUIRE(c.find_node("background") != nullptr);
  CHECK(c.find_node("background")->kind == NodeKind::background);
  CHECK(c.find_node("sky") == nullptr);
  CHECK(std::string(to_string(SceneKind::static_scene)) == "static");
  CHECK(std::string(to_string(SceneKind::omnire)) == "omnire");
  CHECK(std::string(to_string(NodeKind::skeleton)) == "skeleton");
  CHECK(std::string(to_string(NodeKind::sky)) == "sky");
}

TEST_CASE("nodes keep file order and integers may use separators", "[config]") {
  const Config c = parse_config(
      "scene: omnire\n"
      "nodes:\n"
      "  sky: {kind: sky, share: 0}\n"
      "  zebra: {kind: skeleton, sh_degree: 1, instances: 3}\n"
      "  background: {kind: background, init_points: 800_000, max_gaussians: 2e6}\n",
      "inline.yaml");
  REQUIRE(c.nodes.size() == 3);
  CHECK(c.nodes[0].name == "sky");
  CHECK(c.nodes[1].name == "zebra");
  CHECK(c.nodes[1].instances == 3);
  CHECK(c.nodes[2].name == "background");
  CHECK(c.nodes[2].init_points == 800000);
  CHECK(c.nodes[2].max_gaussians == 2000000);
}

TEST_CASE("unknown keys are named with their full path and the nearest valid key", "[config]") {
  SECTION("top level") {
    const std::string e = config_error(std::string("scnee: static\n") + kMinimal);
    CHECK_THAT(e, Catch::Contains("config 'inline.yaml', line 1: unknown key 'scnee'; "
                                  "did you mean 'scene'?"));
  }
  SECTION("nested") {
    const std::string e = config_error(std::string(kMinimal) + "train:\n  iteratons: 5\n");
    CHECK_THAT(e, Catch::Contains("config 'inline.yaml', line 6: unknown key "
                                  "'train.iteratons'; did you mean 'train.iterations'?"));
  }
  SECTION("under a node") {
    const std::string e = config_error(std::string(kMinimal) + "    sh_degre: 2\n");
    CHECK_THAT(e, Catch::Contains("line 5: unknown key 'nodes.background.sh_degre'; "
                                  "did you mean 'nodes.background.sh_degree'?"));
  }
  SECTION("a far-off key also lists the valid keys of its section") {
    const std::string e = config_error(std::string(kMinimal) + "memory:\n  vram: 8\n");
    CHECK_THAT(e, Catch::Contains("unknown key 'memory.vram'"));
    CHECK_THAT(e, Catch::Contains("valid keys under 'memory': budget_gb, safety_margin"));
  }
  SECTION("a key in the wrong section points to where it belongs") {
    const std::string e = config_error(std::string("budget_gb: 8\n") + kMinimal);
    CHECK_THAT(e, Catch::Contains("line 1: unknown key 'budget_gb'; did you mean "
                                  "'memory.budget_gb'?"));
  }
}

TEST_CASE("wrong types and out-of-range values name file, line, key and range", "[config]") {
  SECTION("not a number") {
    const std::string e = config_error(std::string(kMinimal) + "memory:\n  budget_gb: twelve\n");
    CHECK_THAT(e, Catch::Contains("config 'inline.yaml', line 6: 'memory.budget_gb' must be a "
                                  "number in [0.01, 1024], got 'twelve'"));
  }
  SECTION("not an integer") {
    const std::string e = config_error(std::string(kMinimal) + "train:\n  iterations: 1.5\n");
    CHECK_THAT(e, Catch::Contains("line 6: 'train.iterations' must be an integer in "
                                  "[1, 10000000], got '1.5'"));
  }
  SECTION("integer out of range") {
    const std::string e = config_error(std::string(kMinimal) + "    sh_degree: 4\n");
    CHECK_THAT(e, Catch::Contains("config 'inline.yaml', line 5: 'nodes.background.sh_degree' "
                                  "must be an integer in [0, 3], got '4'"));
  }
  SECTION("real out of range") {
    const std::string e =
        config_error(std::string(kMinimal) + "memory:\n  safety_margin: 0.95\n");
    CHECK_THAT(e, Catch::Contains("line 6: 'memory.safety_margin' must be a number in [0, 0.9], "
                                  "got '0.95'"));
  }
  SECTION("exclusive lower bound") {
    const std::string e = config_error(std::string(kMinimal) + "    grad_threshold: 0\n");
    CHECK_THAT(e, Catch::Contains("'nodes.background.grad_threshold' must be a number in "
                                  "(0, 1], got '0'"));
  }
  SECTION("boolean") {
    const std::string e = config_error(std::string(kMinimal) + "densify:\n  absgrad: maybe\n");
    CHECK_THAT(e, Catch::Contains("line 6: 'densify.absgrad' must be true or false, got 'maybe'"));
  }
  SECTION("a list where a value belongs") {
    const std::string e = config_error(std::string(kMinimal) + "train:\n  seed: [1, 2]\n");
    CHECK_THAT(e, Catch::Contains("'train.seed' must be an integer in [0, 18446744073709551615], "
                                  "got a list"));
  }
  SECTION("a value where a section belongs") {
    const std::string e = config_error(std::string(kMinimal) + "train: 5\n");
    CHECK_THAT(e, Catch::Contains("line 5: 'train' must be a section"));
  }
  SECTION("every problem is reported at once, in file order") {
    const std::string e = config_error(
        "train:\n  iterations: 0\n"
        "memory:\n  budget_gb: -1\n" +
        std::string(kMinimal));
    const size_t first = e.find("line 2: 'train.iterations'");
    const size_t second = e.find("line 4: 'memory.budget_gb'");
    CHECK(first != std::string::npos);
    CHECK(second != std::string::npos);
    CHECK(first < second);
  }
}

TEST_CASE("enum values list what is accepted", "[config]") {
  CHECK_THAT(config_error("scene: statc\nnodes: {background: {kind: background}}\n"),
             Catch::Contains("line 1: 'scene' must be one of static, deformable, omnire, got "
                             "'statc' (did you mean 'static'?)"));
  CHECK_THAT(config_error("scene: omnire\nnodes:\n  smpl:\n    kind: skelton\n"),
             Catch::Contains("line 4: 'nodes.smpl.kind' must be one of background, rigid, "
                             "deformable, skeleton, sky, got 'skelton' (did you mean "
                             "'skeleton'?)"));
  CHECK_THAT(config_error(std::string(kMinimal) + "data:\n  format: colmpa\n"),
             Catch::Contains("'data.format' must be one of auto, nerf, colmap, ngp, dnerf, "
                             "street, generated, got 'colmpa' (did you mean 'colmap'?)"));
  CHECK_THAT(config_error(std::string(kMinimal) + "data:\n  background: grey\n"),
             Catch::Contains("'data.background' must be one of white, black, got 'grey'"));
  CHECK_THAT(config_error(std::string(kMinimal) + "data:\n  image_cache: gpu\n"),
             Catch::Contains("'data.image_cache' must be one of auto, host, device, got 'gpu'"));
}

TEST_CASE("syntax errors and duplicate keys name the line", "[config]") {
  CHECK_THAT(config_error("scene: static\nnodes: [a,\n"),
             Catch::Contains("config 'inline.yaml', line 3: YAML syntax error"));
  CHECK_THAT(config_error(std::string(kMinimal) + "scene: omnire\n"),
             Catch::Contains("line 5: duplicate key 'scene' (first on line 1)"));
  CHECK_THAT(config_error("- a\n- b\n"), Catch::Contains("the top level must be a map"));
}

TEST_CASE("cross-field checks", "[config]") {
  CHECK_THAT(config_error("scene: static\n"),
             Catch::Contains("config 'inline.yaml': at least one scene node is required"));
  CHECK_THAT(config_error(std::string(kMinimal) + "  car:\n    kind: rigid\n"),
             Catch::Contains("line 6: node 'car' is rigid, but static scenes take only "
                             "background and sky nodes"));
  CHECK_THAT(config_error("scene: deformable\nnodes:\n  background: {kind: background}\n"),
             Catch::Contains("line 2: a deformable scene needs a node of kind deformable"));
  CHECK_THAT(config_error("scene: deformable\nnodes:\n  d: {kind: deformable}\n"
                          "  p: {kind: skeleton}\n"),
             Catch::Contains("node 'p' is skeleton, but deformable scenes take only"));
  CHECK_THAT(config_error(std::string(kMinimal) + "densify:\n  start: 500\n  stop: 500\n"),
             Catch::Contains("line 6: 'densify.start' (500) must be less than 'densify.stop' "
                             "(500)"));
  CHECK_THAT(config_error(std::string(kMinimal) + "deform:\n  depth: 4\n  skip_layer: 4\n"),
             Catch::Contains("'deform.skip_layer' (4) must be less than 'deform.depth' (4)"));
  CHECK_THAT(config_error(std::string(kMinimal) + "    share: 0\n"),
             Catch::Contains("'nodes.background.share' must be > 0 for a node with Gaussians"));
  CHECK_THAT(config_error(std::string(kMinimal) + "    instances: 3\n"),
             Catch::Contains("'nodes.background.instances' must be 1 for a background node"));
  CHECK_THAT(config_error(std::string(kMinimal) + "  sky: {kind: sky}\n  sky2: {kind: sky}\n"),
             Catch::Contains("at most one sky node"));
  CHECK_THAT(config_error(std::string(kMinimal) + "  a.b: {kind: background}\n"),
             Catch::Contains("node name 'a.b' must be letters, digits"));
  CHECK_THAT(config_error(std::string("device: gpu\n") + kMinimal),
             Catch::Contains("line 1: 'device' must be auto, cpu, cuda or cuda:N, got 'gpu'"));
  CHECK_THAT(config_error("scene: omnire\ndata: {format: dnerf}\n"
                          "nodes: {background: {kind: background}}\n"),
             Catch::Contains("omnire scenes need street data"));
  // The sky needs no share, and a static scene may have one.
  CHECK_NOTHROW(parse_config(std::string(kMinimal) + "  sky: {kind: sky, share: 0}\n", "x"));
}

TEST_CASE("overrides set values before validation", "[config]") {
  SECTION("a value absent from the file") {
    const Config c = parse_config(kMinimal, "inline.yaml", {"train.iterations=500"});
    CHECK(c.train.iterations == 500);
  }
  SECTION("a value present in the file, later overrides winning") {
    const Config c = parse_config(std::string(kMinimal) + "train:\n  iterations: 7\n",
                                  "inline.yaml", {"train.iterations=9", "train.iterations=11"});
    CHECK(c.train.iterations == 11);
  }
  SECTION("a node field") {
    const Config c = parse_config(kMinimal, "inline.yaml", {"nodes.background.sh_degree=2"});
    CHECK(c.find_node("background")->sh_degree == 2);
  }
  SECTION("a new node, appended after the file's nodes") {
    const Config c = parse_config(kMinimal, "inline.yaml", {"nodes.sky.kind=sky"});
    REQUIRE(c.nodes.size() == 2);
    CHECK(c.nodes[1].name == "sky");
    CHECK(c.nodes[1].kind == NodeKind::sky);
  }
  SECTION("values parse as YAML scalars") {
    const Config c = parse_config(
        kMinimal, "inline.yaml",
        {"data.path=/data/my scene", "memory.enforce=false", "memory.budget_gb=7.5",
         "name=", "scene=omnire", "train.seed=18446744073709551615"});
    CHECK(c.data.path == "/data/my scene");
    CHECK_FALSE(c.memory.enforce);
    CHECK(c.memory.budget_gb == 7.5);
    CHECK(c.name.empty());
    CHECK(c.scene == SceneKind::omnire);
    CHECK(c.train.seed == 18446744073709551615ull);
  }
  SECTION("an unknown key names the override") {
    const std::string e = config_error(kMinimal, {"train.iteratons=5"});
    CHECK_THAT(e, Catch::Contains("--set train.iteratons=5: unknown key 'train.iteratons'; "
                                  "did you mean 'train.iterations'?"));
  }
  SECTION("an unknown section names the override") {
    const std::string e = config_error(kMinimal, {"trian.iterations=5"});
    CHECK_THAT(e, Catch::Contains("--set trian.iterations=5: unknown key 'trian'; did you mean "
                                  "'train'?"));
  }
  SECTION("an unknown node key names the override") {
    const std::string e = config_error(kMinimal, {"nodes.background.sh=1"});
    CHECK_THAT(e, Catch::Contains("--set nodes.background.sh=1: unknown key "
                                  "'nodes.background.sh'"));
  }
  SECTION("a bad value names the override") {
    const std::string e = config_error(kMinimal, {"memory.budget_gb=twelve"});
    CHECK_THAT(e, Catch::Contains("--set memory.budget_gb=twelve: 'memory.budget_gb' must be a "
                                  "number in [0.01, 1024], got 'twelve'"));
  }
  SECTION("a cross-field problem caused by an override names it") {
    const std::string e = config_error(kMinimal, {"nodes.car.kind=rigid"});
    CHECK_THAT(e, Catch::Contains("--set nodes.car.kind=rigid: node 'car' is rigid"));
  }
  SECTION("malformed overrides") {
    CHECK_THAT(config_error(kMinimal, {"train.iterations"}),
               Catch::Contains("--set train.iterations: expected key.path=value"));
    CHECK_THAT(config_error(kMinimal, {"train..iterations=5"}),
               Catch::Contains("empty name in key path 'train..iterations'"));
    CHECK_THAT(config_error(kMinimal, {"scene.kind=static"}),
               Catch::Contains("--set scene.kind=static: 'scene' is a value, not a section"));
  }
}

TEST_CASE("config_to_yaml writes every field and reads back identically", "[config]") {
  Config c = parse_config(
      "name: round trip \"quoted\"\n"
      "scene: omnire\n"
      "device: cuda:1\n"
      "out_dir: 'out dir/x'\n"
      "nodes:\n"
      "  background: {kind: background}\n"
      "  cars: {kind: rigid, instances: 7}\n"
      "  people: {kind: skeleton, sh_degree: 1}\n"
      "  sky: {kind: sky, share: 0, env_map_resolution: 256}\n",
      "round_trip.yaml");
  c.data.path = "yes";  // text that YAML would read as a boolean unless quoted
  c.data.format = "street";
  c.data.width = 960;
  c.data.height = 640;
  c.data.downscale = 2;
  c.data.background = "black";
  c.data.cameras = 3;
  c.data.frames = 177;
  c.data.test_every = 9;
  c.data.image_cache = "host";
  c.train.iterations = 1234;
  c.train.sh_increase_every = 77;
  c.train.lambda_dssim = 0.3;
  c.train.seed = 1234567890123456789ull;
  c.train.log_every = 3;
  c.train.test_every = 5;
  c.train.save_every = 6;
  c.train.antialias = true;
  c.train.lr_position_init = 1.0 / 3.0;  // needs all 17 digits
  c.train.lr_position_final = 1.6e-7;
  c.train.lr_scale = 0.0051;
  c.train.lr_rotation = 0.0011;
  c.train.lr_opacity = 0.051;
  c.train.lr_sh_dc = 0.00251;
  c.train.lr_sh_rest = 0.0001251;
  c.densify.absgrad = false;
  c.densify.start = 11;
  c.densify.stop = 22;
  c.densify.every = 33;
  c.densify.opacity_reset_every = 44;
  c.densify.min_opacity = 0.0051;
  c.densify.percent_dense = 0.011;
  c.densify.prune_screen_fraction = 0.15;
  c.densify.prune_floor = 0.2;
  c.train.divergence_factor = 4.5;
  c.train.divergence_steps = 777;
  c.deform.depth = 6;
  c.deform.width = 128;
  c.deform.skip_layer = 3;
  c.deform.position_frequencies = 8;
  c.deform.time_frequencies = 10;
  c.deform.warmup_steps = 99;
  c.deform.chunk_size = 65536;
  c.deform.lr = 0.00081;
  c.deform.time_noise = true;
  c.memory.budget_gb = 7.9;
  c.memory.safety_margin = 0.15;
  c.memory.enforce = false;
  c.memory.log_every = 7;
  c.memory.context_gb = 0.75;
  c.nodes[0].priority = 5;
  c.nodes[0].share = 0.7;
  c.nodes[0].max_gaussians = 3000000;
  c.nodes[0].init_points = 1000000;
  c.nodes[0].grad_threshold = 0.00051;
  c.nodes[1].sh_degree = 2;

  const std::string yaml = config_to_yaml(c);
  const Config back = parse_config(yaml, "round_trip.yaml");
  require_same(c, back);
  CHECK(back.source_file == "round_trip.yaml");
  CHECK(config_to_yaml(back) == yaml);
  // Every section is written even where it holds only defaults.
  const std::string defaults = config_to_yaml(parse_config(kMinimal, "x"));
  for (const char* key : {"data:", "train:", "densify:", "deform:", "memory:", "nodes:",
                          "env_map_resolution:", "lr_sh_rest:", "context_gb:"})
    CHECK_THAT(defaults, Catch::Contains(key));
}

TEST_CASE("a missing config lists every path searched", "[config]") {
  try {
    resolve_config_path("no_such_preset_gb");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    const std::string cwd = std::filesystem::current_path().string();
    CHECK_THAT(what, Catch::Contains("config 'no_such_preset_gb' not found; searched:"));
    CHECK_THAT(what, Catch::Contains(cwd + "/no_such_preset_gb"));
    CHECK_THAT(what, Catch::Contains(cwd + "/no_such_preset_gb.yaml"));
    CHECK_THAT(what, Catch::Contains(std::string(GSTRAIN_SOURCE_DIR) +
                                     "/configs/no_such_preset_gb.yaml"));
    CHECK_THAT(what, Catch::Contains(std::string(GSTRAIN_INSTALL_CONFIG_DIR) +
                                     "/no_such_preset_gb.yaml"));
    CHECK_THAT(e.hint(), Catch::Contains("omnire_12gb"));
  }
  CHECK_THROWS_AS(load_config("/nonexistent/dir/x.yaml"), ConfigError);
  CHECK_THROWS_AS(resolve_config_path(""), ConfigError);
}

TEST_CASE("a config file's errors name the file and line", "[config]") {
  const std::string path = std::string(GSTRAIN_TEST_FIXTURES) + "/configs/bad_budget.yaml";
  try {
    load_config(path);
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("config '" + path + "', line 6: 'memory.budget_gb' "
                                         "must be a number in [0.01, 1024], got 'twelve'"));
  }
  // The same file is fixed by an override.
  const Config c = load_config(path, {"memory.budget_gb=12"});
  CHECK(c.memory.budget_gb == 12.0);
  CHECK(c.source_file == path);

  const std::string tiny = std::string(GSTRAIN_TEST_FIXTURES) + "/configs/tiny_static";
  CHECK(load_config(tiny).source_file == tiny + ".yaml");  // the extension is optional
}

TEST_CASE("the 12 presets load by bare name from any directory", "[config]") {
  ScopedChdir in_tmp(std::filesystem::temp_directory_path());
  const std::vector<int> tiers = {8, 12, 16, 24};
  for (const char* scene : {"static", "deformable", "omnire"}) {
    const Config* lower = nullptr;
    std::vector<Config> loaded;
    loaded.reserve(tiers.size());
    for (int gb : tiers) {
      const std::string name = std::string(scene) + "_" + std::to_string(gb) + "gb";
      INFO(name);
      Config c;
      REQUIRE_NOTHROW(c = load_config(name));
      CHECK(load_config(name + ".yaml").source_file == c.source_file);
      CHECK(c.name == name);
      CHECK(std::string(to_string(c.scene)) == scene);
      CHECK(c.memory.budget_gb == gb);
      CHECK(c.memory.enforce);
      std::vector<std::string> kinds;
      for (const NodeConfig& n : c.nodes) kinds.push_back(to_string(n.kind));
      if (c.scene == SceneKind::static_scene) {
        CHECK(kinds == std::vector<std::string>{"background"});
        CHECK(c.nodes[0].sh_degree == 3);
      } else if (c.scene == SceneKind::deformable) {
        CHECK(kinds == std::vector<std::string>{"deformable"});
        CHECK(c.data.format == "dnerf");
        CHECK(c.train.iterations == 40000);
      } else {
        CHECK(kinds == std::vector<std::string>{"background", "rigid", "deformable", "skeleton",
                                                "sky"});
        CHECK(c.data.format == "street");
        REQUIRE(c.find_node("smpl") != nullptr);
        CHECK(c.find_node("smpl")->kind == NodeKind::skeleton);
        CHECK(c.find_node("smpl")->sh_degree == 1);
        CHECK(c.find_node("background")->sh_degree == 3);
      }
      // What the planner relies on for "a bigger tier gets bigger caps": the same shares, and
      // nothing that costs memory shrinking as the tier grows.
      if (lower) {
        REQUIRE(c.nodes.size() == lower->nodes.size());
        for (size_t i = 0; i < c.nodes.size(); ++i) {
          CHECK(c.nodes[i].name == lower->nodes[i].name);
          CHECK(c.nodes[i].share == lower->nodes[i].share);
          CHECK(c.nodes[i].sh_degree >= lower->nodes[i].sh_degree);
          CHECK(c.nodes[i].max_gaussians == 0);
        }
        const auto pixels = [](const Config& x) {
          return x.data.width == 0 ? int64_t{1} << 40 : int64_t{x.data.width} * x.data.height;
        };
        CHECK(pixels(c) >= pixels(*lower));
        CHECK(c.data.cameras == lower->data.cameras);
        CHECK(c.data.frames == lower->data.frames);
        CHECK(c.memory.safety_margin == lower->memory.safety_margin);
      }
      loaded.push_back(c);
      lower = &loaded.back();
    }
  }
}
