// Typed training configuration, loaded from YAML presets (configs/*.yaml) with validation and
// --set overrides. Every field has a default here; presets override what their tier needs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gs {

enum class SceneKind { static_scene, deformable, omnire };

// What a scene node is; decides how its Gaussians reach world space (DESIGN.md §5).
enum class NodeKind {
  background,  // plain 3DGS in world space
  rigid,       // Gaussians in box-local frames moved by per-frame instance poses
  deformable,  // canonical Gaussians + deformation MLP (shared across instances)
  skeleton,    // SMPL-style linear blend skinning
  sky          // environment map: no Gaussians, a fixed-size texture
};

const char* to_string(SceneKind kind);
const char* to_string(NodeKind kind);

struct NodeConfig {
  std::string name;                   // the key under `nodes:`
  NodeKind kind = NodeKind::background;
  int sh_degree = 3;                  // 0..3, the most the node will use
  int priority = 1;                   // higher keeps quality longer in the degrade ladder
  double share = 1.0;                 // this node's share of the Gaussian memory (normalised)
  int64_t max_gaussians = 0;          // user cap; 0: the plan derives it from the budget
  int64_t init_points = 100000;       // Gaussians at initialisation (points or random)
  double grad_threshold = 0.0002;     // base AbsGrad/grad threshold for densification
  int instances = 1;                  // rigid/deformable/skeleton: object instances
  int env_map_resolution = 512;       // sky only: cube face size in texels
  int densify_stop = 0;               // this node densifies until this step; 0: densify.stop
                                      // (OmniRe: background 15k, rigid 20k)
  int screen_size_stop = 0;           // the screen-size rules stop at this step for this node;
                                      // 0: densify.screen_size_stop (OmniRe: boxed nodes 30k)
  // Street backgrounds only (drivestudio's near_randoms / far_randoms, 100k each): random
  // points added to the LiDAR points, 3× this many drawn and those a training camera sees
  // kept, random colours; near ones uniform in the sphere of the scene radius R around the
  // LiDAR box's centre, far ones at 1 … 50 R (inverse distance uniform), for what the LiDAR
  // does not reach (tall buildings, distant slopes). 0: none.
  int64_t near_random_points = 0;
  int64_t far_random_points = 0;
  std::string body_model;             // skeleton only: a body template file converted from an
                                      // SMPL model (docs/humanpose_format.md); empty: the
                                      // procedural template
};

struct DataConfig {
  std::string path;                   // empty: the embedded generated scene
  std::string format = "auto";        // auto | nerf | colmap | ngp | dnerf | street | generated
  int width = 0;                      // training resolution; 0: native
  int height = 0;
  int downscale = 1;                  // integer image downscale factor applied at load
  std::string background = "white";   // white | black (alpha compositing of RGBA inputs)
  int cameras = 1;                    // cameras per frame (street scenes)
  int frames = 100;                   // expected frames, used by the plan before loading
  int start_frame = 0;                // street scenes: the first frame trained on
  int end_frame = -1;                 // street scenes: the last frame (inclusive); -1: the last
  int test_every = 8;                 // hold out every Nth view when no test split is given
  std::string image_cache = "auto";   // auto | host | device: where images live while training
};

struct TrainConfig {
  int iterations = 30000;
  int sh_increase_every = 1000;       // raise the active SH degree every N steps
  double lambda_dssim = 0.2;          // loss = (1-λ)·L1 + λ·(1-SSIM)
  uint64_t seed = 0;
  int log_every = 100;
  int test_every = 7000;
  int save_every = 30000;
  bool antialias = false;
  double lr_position_init = 0.00016;  // × scene extent, decayed exponentially to _final
  double lr_position_final = 0.0000016;
  double lr_scale = 0.005;
  double lr_rotation = 0.001;
  double lr_opacity = 0.05;
  double lr_sh_dc = 0.0025;
  double lr_sh_rest = 0.000125;       // lr_sh_dc / 20
  // Divergence guard: the run fails (exit 4, checkpoint kept from before) when its smoothed
  // loss stays above divergence_factor × its best smoothed loss for divergence_steps steps.
  // An opacity reset lifts the loss for a few hundred steps at most; this waits far longer.
  double divergence_factor = 3.0;
  int divergence_steps = 1000;
  // drivestudio's sharp-shape regulariser on every Gaussian node (scene/sharp_shape.h): weight
  // × the mean of max(largest / smallest scale, ratio) − ratio, every `every` steps. 0: off.
  double sharp_shape_weight = 0.0;
  double sharp_shape_ratio = 10.0;
  int sharp_shape_every = 10;
};

struct DensifyConfig {
  bool absgrad = true;
  int start = 500;
  int stop = 15000;
  int every = 100;
  int opacity_reset_every = 3000;
  double min_opacity = 0.005;
  double percent_dense = 0.01;        // clone below / split above this × scene extent
  // Prune Gaussians whose screen radius passed this fraction of the larger image side since
  // the last densify (after the first opacity reset). 0: off, as in gsplat's default and in
  // graphdeco's code, whose radii are zeroed before its 20-pixel test ever runs. A fixed pixel
  // limit prunes every Gaussian big enough to split at 800x800 (issue 9).
  double prune_screen_fraction = 0.0;
  // Split a candidate whose screen radius passed this fraction of the larger image side since
  // the last densify, however small it is in the world (drivestudio's split_screen_size 0.05).
  // 0: off (graphdeco and gsplat split by world size only).
  double split_screen_fraction = 0.0;
  // Both screen-size rules stop at this step (drivestudio's stop_screen_size_at: 4000 for the
  // background); 0: they hold for the whole densification window. Per node: screen_size_stop.
  int screen_size_stop = 0;
  // After each periodic opacity reset, no densify or prune until every training view was seen
  // once (max(training views, every) steps), their statistics dropped: drivestudio's
  // (and nerfstudio's) refinement rule. false: densify right through, as graphdeco does.
  bool pause_after_reset = false;
  // Pruning never takes a node below this fraction of its peak count in the run (the
  // highest-opacity of the doomed are spared, and the event is logged). 0: no floor: a node
  // may then empty, which fails the run (exit 4) naming the step.
  double prune_floor = 0.1;
};

struct DeformConfig {
  int depth = 8;                      // hidden layers
  int width = 256;
  int skip_layer = 4;                 // input re-concatenated after this layer
  int position_frequencies = 10;      // L for x
  int time_frequencies = 6;           // L for t (6 synthetic, 10 real)
  int warmup_steps = 3000;            // static warm-up before the MLP switches on
  int chunk_size = 0;                 // Gaussians per MLP chunk; 0: chosen by the plan
  double lr = 0.0008;                 // MLP learning rate, decayed exponentially to lr_final
  double lr_final = 0.000008;         // Deformable-3DGS: position_lr_final × 5
  bool time_noise = false;            // annealed smooth training noise on t
  double export_time = 0.5;           // the deformed Gaussians are also written at this time
};

struct MemoryConfig {
  double budget_gb = 12.0;            // the tier; GB = 1e9 bytes as GPU vendors count
  double safety_margin = 0.10;        // fraction of the budget kept free for fragmentation
  bool enforce = true;                // cap the accounting allocator at the budget
  int log_every = 100;                // memory.jsonl cadence in steps
  double context_gb = 0.5;            // CUDA context + library workspaces before measuring
  // How CUDA buffers get their memory (both accounted and capped alike):
  //   cuda_malloc  cudaMalloc/cudaFree per buffer (cudaFree waits for the device);
  //   stream_pool  cudaMallocAsync/cudaFreeAsync on the default stream: freed memory is reused
  //                in stream order without a device-wide wait, and the pool keeps at most the
  //                cap after a synchronisation (its release threshold).
  std::string allocator = "cuda_malloc";
};

struct Config {
  std::string source_file;            // resolved path of the YAML file it came from
  std::string name;                   // free-form preset name
  SceneKind scene = SceneKind::static_scene;
  std::string device = "auto";
  std::string out_dir = "out";
  DataConfig data;
  TrainConfig train;
  DensifyConfig densify;
  DeformConfig deform;
  MemoryConfig memory;
  std::vector<NodeConfig> nodes;      // in file order

  const NodeConfig* find_node(const std::string& name) const;
};

// Finds a config by path or bare name: as given (relative to the working directory), then
// <repo>/configs/, then the installed share/gstrain/configs/ ("omnire_12gb" and
// "omnire_12gb.yaml" both work). Throws ConfigError listing every path searched.
std::string resolve_config_path(const std::string& name_or_path);

// Loads, applies overrides ("key.path=value", e.g. "train.iterations=500" or
// "nodes.background.sh_degree=2"), and validates. Throws ConfigError naming the file, line,
// full key path, and the accepted range / nearest valid key.
Config load_config(const std::string& name_or_path,
                   const std::vector<std::string>& overrides = {});

// Same from YAML text (tests); `origin` names it in errors.
Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides = {});

// The resolved configuration as YAML (written to <out>/config.yaml; loads back identically).
std::string config_to_yaml(const Config& config);

}  // namespace gs
