// The training run (see trainer.h and training_run.h): the run loop, logs, checkpoints, PLY
// exports and the summary. Setting up is in training_setup.cpp, the steps in training_step.cpp.
#include "trainer/trainer.h"
#include "trainer/training_run.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/logging.h"
#include "core/memory_accounting.h"
#include "formats/checkpoint.h"
#include "formats/ply_io.h"
#include "trainer/evaluation.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

// The signal that asked the run to stop (SIGINT from Ctrl-C, SIGTERM from job schedulers and
// containers), or 0. Both are handled alike: a checkpoint, then exit.
std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

// Installs the stop handlers for the lifetime of a run and restores the previous ones.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    previous_int_ = std::signal(SIGINT, on_stop_signal);
    previous_term_ = std::signal(SIGTERM, on_stop_signal);
  }
  ~StopSignals() {
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  void (*previous_int_)(int) = SIG_DFL;
  void (*previous_term_)(int) = SIG_DFL;
};

}  // namespace

nlohmann::json TrainingRun::trainer_state() const {
  return {{"budget", budget_->state()},
          {"loss_watch", watch_.state()},
          {"train_seconds", train_seconds_before_ +
                                std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                              t_start_).count()}};
}

std::vector<GaussianModel*> TrainingRun::models() {
  std::vector<GaussianModel*> m;
  for (auto& n : nodes_) m.push_back(&n->model());
  return m;
}

void TrainingRun::restore_checkpoint() {
  const std::string path = out_ + "/checkpoints/latest.ckpt";
  if (!fs::exists(path))
    throw IoError("--resume: no checkpoint at '" + path + "'",
                  "start without --resume, or point --out at the run to continue");
  const LoadedCheckpoint ck = load_checkpoint(path, models(), checkpoint_tensors());
  first_step_ = ck.step + 1;
  last_step_ = ck.step;
  const nlohmann::json& s = ck.trainer_state;
  budget_->restore(s);
  train_seconds_before_ = s.value("train_seconds", 0.0);
  if (s.contains("loss_watch")) watch_.restore(s["loss_watch"]);
  last_saved_step_ = ck.step;
  events_.push_back("resumed from step " + std::to_string(ck.step));
  log_info("resumed from '", path, "' at step ", ck.step, " with ", total_count(), " Gaussians");
}

// Bytes that do not depend on the per-view state: the nodes at capacity and the step buffers.
size_t TrainingRun::persistent_bytes() const {
  size_t bytes = target_.bytes() + v_rgb_.bytes() + render_set_->bytes() + loss_ws_.bytes() +
                 plan_.fixed.images * (images_->cached_on_device() ? 1 : 0) +
                 formation_->bytes() + sky_mask_.bytes() + target_small_.bytes() +
                 lidar_depth_.bytes() +
                 v_alpha_.bytes() + v_depth_.bytes();
  for (const auto& n : nodes_) bytes += n->allocated_bytes();
  return bytes;
}

size_t TrainingRun::total_count() const {
  size_t n = 0;
  for (const auto& node : nodes_) n += node->count();
  return n;
}

std::vector<CheckpointTensor> TrainingRun::checkpoint_tensors() {
  std::vector<CheckpointTensor> all;
  for (auto& n : nodes_)
    for (const NodeTensor& t : n->checkpoint_tensors()) all.push_back({t.name, t.buffer});
  for (const NodeTensor& t : formation_->checkpoint_tensors()) all.push_back({t.name, t.buffer});
  return all;
}

const SceneNode* TrainingRun::network_node() const {
  for (const auto& n : nodes_)
    if (n->network_status(0).present) return n.get();
  return nullptr;
}

void TrainingRun::log_step(int step) {
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - t_log_).count();
  const double its = dt > 0 ? steps_since_log_ / dt : 0;
  t_log_ = now;
  steps_since_log_ = 0;

  // Memory: what the model predicted for this window against what was measured, then
  // calibrate the per-view bytes per Gaussian and re-plan the nodes' growth limits.
  const size_t total = total_count();
  const size_t persistent = persistent_bytes();
  const size_t predicted = budget_->predicted_peak(persistent, total);
  MemoryLogEntry e;
  e.step = step;
  std::vector<size_t> counts;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const NodeBudget& b = budget_->node(i);
    e.nodes.push_back({nodes_[i]->name(), nodes_[i]->count(), b.growth_limit, b.threshold_used});
    counts.push_back(nodes_[i]->count());
  }
  e.predicted_bytes = predicted;
  e.multiplier = total > 0 ? double(predicted) / (double(total) * 236.0) : 0;
  e.events = events_;
  events_.clear();
  if (const SceneNode* net = network_node()) {
    const NodeNetworkStatus ns = net->network_status(step);
    e.mlp = MlpMemoryStatus{ns.active, ns.chunk_rows, ns.activation_bytes, ns.state_bytes,
                            size_t(ns.per_gaussian_bytes), ns.recomputed_chunks};
  }
  const size_t measured = monitor_->log(e);
  for (std::string& ev : budget_->calibrate(measured, persistent,
                                             MemoryAccountant::of(dev_.kind).cap(), counts))
    events_.push_back(std::move(ev));

  nlohmann::ordered_json j;
  j["step"] = step;
  j["loss"] = last_loss_.loss;
  j["l1"] = last_loss_.l1;
  j["ssim"] = last_loss_.ssim;
  j["psnr"] = last_psnr_;
  if (street()) {
    j["sky_loss"] = last_sky_loss_;
    j["depth_loss"] = last_depth_loss_;
  }
  j["gaussians"] = total;
  j["visible"] = last_visible_;
  j["instances"] = last_instances_;
  j["it_per_s"] = its;
  j["elapsed_s"] = train_seconds_before_ + std::chrono::duration<double>(now - t_start_).count();
  train_log_->write(j);
}

// Held-out views mid-run (no images written): one train.jsonl line with the test metrics.
void TrainingRun::log_test(int step) {
  if (data_.test.empty()) return;
  const EvalResult ev = evaluate_views(*render_set_, data_.test, data_.test_images, raster_, "",
                                       last_step_, eval_extras());
  nlohmann::ordered_json j;
  j["step"] = step;
  j["test_psnr"] = ev.psnr;
  j["test_ssim"] = ev.ssim;
  j["test_views"] = ev.views;
  for (const EvalResult::Region& r : ev.regions)
    if (r.pixels > 0) j["test_" + r.name + "_psnr"] = r.psnr;
  j["gaussians"] = total_count();
  train_log_->write(j);
  char buf[160];
  std::snprintf(buf, sizeof(buf), "test at step %d: PSNR %.2f dB, SSIM %.4f over %zu views", step,
                ev.psnr, ev.ssim, ev.views);
  progress_->message(buf);
}

void TrainingRun::save(int step, const std::string& why) {
  if (!watch_.healthy()) {
    // A diverging model would replace the last good checkpoint: keep that one.
    log_warn("checkpoint not saved at step ", step, " (", why, "): the smoothed loss ",
             watch_.smoothed(), " is above ", cfg_.train.divergence_factor, " x its best ",
             watch_.best(), "; ", last_saved_step_ > 0 ? "latest.ckpt stays at step " +
             std::to_string(last_saved_step_) : std::string("no checkpoint yet"));
    return;
  }
  save_checkpoint(out_ + "/checkpoints/latest.ckpt", step, models(), trainer_state(),
                  checkpoint_tensors());
  last_saved_step_ = step;
  log_info("checkpoint saved at step ", step, " (", why, ")");
}

void TrainingRun::export_ply(int step) {
  const std::string dir = out_ + "/point_cloud/iteration_" + std::to_string(step);
  fs::create_directories(dir);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    // The first node keeps the INRIA layout's point_cloud.ply; the others are named after
    // themselves.
    const std::string own = i == 0 ? "point_cloud" : nodes_[i]->name();
    for (const NamedCloud& c : nodes_[i]->export_clouds(step)) {
      const std::string file =
          dir + "/" + (c.suffix.empty() ? own : i == 0 ? c.suffix : own + "_" + c.suffix) + ".ply";
      write_ply(file, c.cloud);
      if (!c.description.empty()) log_info(c.description, " written to ", file);
    }
  }
}

TrainSummary TrainingRun::run() {
  select_nodes();
  dev_ = resolve_device(cfg_.device);
  shorten_embedded_street_run();
  setup_outputs();
  // This run's cap and peaks are its own: restore the accountant's cap however the run ends,
  // and start the peak window here (earlier work in this process does not count).
  MemoryAccountant& acc = MemoryAccountant::of(dev_.kind);
  struct CapRestore {
    MemoryAccountant& acc;
    size_t cap;
    ~CapRestore() { acc.set_cap(cap); }
  } restore_cap{acc, acc.cap()};
  acc.reset_peak();
  // memory.allocator: the pool keeps at most what the cap allows (the usable budget less what
  // the device holds already, as setup_plan measures the context); cudaMalloc again after the
  // run's buffers are gone (pool_scope_ is the first member, so the last destroyed).
  if (dev_.is_cuda() && cfg_.memory.allocator == "stream_pool") {
    const double usable = cfg_.memory.budget_gb * 1e9 * (1.0 - cfg_.memory.safety_margin);
    const auto info = device_memory_info(dev_);
    const double held = info ? double(info->total_bytes - info->free_bytes) : 0.0;
    pool_scope_ = std::make_unique<StreamPoolScope>(dev_, size_t(std::max(0.0, usable - held)));
  }
  setup_data();
  setup_plan();
  setup_model();
  if (opt_.resume) restore_checkpoint();

  monitor_ = std::make_unique<MemoryMonitor>(out_ + "/memory.jsonl", dev_, plan_.budget_bytes);
  train_log_ = std::make_unique<JsonlWriter>(out_ + "/train.jsonl");
  progress_ = std::make_unique<Progress>(opt_.progress, cfg_.train.log_every);

  const StopSignals stop_signals;
  t_start_ = t_log_ = std::chrono::steady_clock::now();
  TrainSummary summary;
  summary.budget_bytes = plan_.budget_bytes;
  for (size_t i = 0; i < nodes_.size(); ++i)
    budget_->node(i).peak_count = std::max(budget_->node(i).peak_count, nodes_[i]->count());
  int step = first_step_;
  const int last = cfg_.train.iterations;
  for (; step <= last; ++step) {
    step_with_recovery(step);
    ++steps_since_log_;
    // Held-out views before this step's densify and reset: they measure the model, not the
    // reset (a test on a reset step sees every opacity at 0.01).
    if (cfg_.train.test_every > 0 && step % cfg_.train.test_every == 0 && step != last)
      log_test(step);
    maybe_densify(step);
    check_health(step);  // NaN, divergence, or an emptied node: fail, naming the step
    if (step % cfg_.memory.log_every == 0 || step % cfg_.train.log_every == 0 || step == last ||
        step == first_step_)
      log_step(step);
    ProgressState ps;
    ps.step = step;
    ps.total = last;
    ps.loss = last_loss_.loss;
    ps.psnr = last_psnr_;
    ps.gaussians = total_count();
    ps.memory_bytes = MemoryAccountant::of(dev_.kind).current_total();
    ps.budget_bytes = plan_.budget_bytes;
    progress_->update(ps);
    // A periodic save that falls while the loss is far above its best (right after an opacity
    // reset, say) waits for the first healthy step.
    if (cfg_.train.save_every > 0 && step % cfg_.train.save_every == 0 && step != last)
      save_pending_ = true;
    if (save_pending_ && watch_.healthy()) {
      save(step, "periodic");
      save_pending_ = false;
    }
    const int sig = g_stop_signal;
    const bool stop_here = opt_.stop_after > 0 && step >= opt_.stop_after && step != last;
    if (sig != 0 || stop_here) {
      progress_->finish();
      save(step, sig == SIGTERM ? "SIGTERM" : sig != 0 ? "interrupted" : "--stop-after");
      summary.interrupted = true;
      summary.stop_signal = sig;
      break;
    }
  }
  progress_->finish();
  const int done = summary.interrupted ? step : last;
  finish(summary, done);
  return summary;
}

void TrainingRun::finish(TrainSummary& s, int last_step) {
  s.iterations_done = last_step;
  if (lidar_cache_.views() > 0)
    log_info("LiDAR depth cache: ", lidar_cache_.views(), " view resolutions, ",
             format_bytes(lidar_cache_.host_bytes()), " of host memory");
  s.train_seconds = train_seconds_before_ +
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start_).count();
  if (!s.interrupted) {
    save(last_step, "final");
    export_ply(last_step);
  }
  const EvalResult ev = evaluate_views(*render_set_, data_.test, data_.test_images, raster_,
                                       s.interrupted ? "" : out_ + "/test_renders", last_step_,
                                       eval_extras());
  s.test_psnr = ev.psnr;
  s.test_ssim = ev.ssim;
  s.test_views = ev.views;
  s.gaussians = total_count();
  s.peak_bytes = std::max(monitor_->run_peak_bytes(), MemoryAccountant::of(dev_.kind).peak_total());

  nlohmann::ordered_json m;
  m["test"] = {{"psnr", ev.psnr}, {"ssim", ev.ssim}, {"views", ev.views}};
  for (const EvalResult::Region& r : ev.regions) {
    // Each class's region (its dynamic masks) of the held-out views.
    if (r.pixels == 0) continue;
    m["test"][r.name + "_psnr"] = r.psnr;
    m["test"][r.name + "_pixels"] = r.pixels;
  }
  m["gaussians"] = s.gaussians;
  m["iterations"] = last_step;
  m["train_seconds"] = s.train_seconds;
  m["interrupted"] = s.interrupted;
  m["device"] = dev_.name();
  m["budget_bytes"] = s.budget_bytes;
  m["peak_bytes"] = s.peak_bytes;
  if (nodes_.size() == 1) {
    // One node: "node" (and "deform") at the top level, as before the scene graph.
    nlohmann::ordered_json node = nodes_[0]->metrics(last_step_);
    nlohmann::ordered_json deform;
    if (node.contains("deform")) {
      deform = node["deform"];
      node.erase("deform");
    }
    m["node"] = node;
    if (!deform.is_null()) m["deform"] = deform;
  } else {
    for (const auto& n : nodes_) {
      nlohmann::ordered_json j = n->metrics(last_step_);
      j["gaussians"] = n->count();
      m["nodes"].push_back(j);
    }
  }
  write_file_atomic(out_ + "/metrics.json", m.dump(2) + "\n");
  log_info("done: ", last_step, " steps in ", s.train_seconds, " s; test PSNR ", ev.psnr,
           " dB, SSIM ", ev.ssim, " over ", ev.views, " views; ", s.gaussians,
           " Gaussians; peak ", format_bytes(s.peak_bytes), " of budget ",
           format_bytes(s.budget_bytes));
}

std::string default_scene_dir(const Config& config) {
  const char* kind = config.scene == SceneKind::deformable ? "dynamic"
                     : config.scene == SceneKind::omnire  ? "street"
                                                          : "static";
  return config.out_dir + "/generated_scene_" + kind;
}

TrainSummary run_training(const Config& config, const TrainerOptions& options) {
  TrainingRun run(config, options);
  return run.run();
}

}  // namespace gs
