// gstrain: the one command users run. `gstrain --config omnire_12gb.yaml [--plan [--json]]`.
// Exit codes: 0 success, 1 runtime failure, 2 bad usage, configuration or input data, 3 the memory plan
// does not fit the budget.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/errors.h"
#include "core/logging.h"
#include "budget/budget_planner.h"
#include "config/config.h"
#include "tools/flags.h"
#include "trainer/trainer.h"

#include <nlohmann/json.hpp>

namespace {

constexpr int kExitRuntime = 1, kExitUsage = 2, kExitDoesNotFit = 3, kExitTrainingFailed = 4,
              kExitInterrupted = 130, kExitTerminated = 143;

const char* kUsage =
    "usage: gstrain --config NAME_OR_PATH [options]\n"
    "\n"
    "  --config C        preset name (e.g. omnire_12gb.yaml, looked up in configs/) or a path\n"
    "  --set KEY=VALUE   override a config value, e.g. --set train.iterations=500 (repeatable)\n"
    "  --plan            print the memory plan for the budget and exit (no training)\n"
    "  --json            with --plan: print the plan as one JSON object\n"
    "  --device D        auto | cpu | cuda | cuda:N (default: the config's, usually auto)\n"
    "  --data PATH       dataset path (overrides data.path)\n"
    "  --out DIR         output directory (overrides out_dir)\n"
    "  --resume          continue from <out>/checkpoints/latest.ckpt\n"
    "  --stop-after N    checkpoint and stop after step N (exit 130, as Ctrl-C); --resume goes on\n"
    "  --no-progress     plain periodic lines instead of a progress bar\n"
    "  --help            this text\n"
    "\n"
    "exit codes: 0 ok, 1 runtime failure, 2 bad usage, config or data, 3 plan does not fit,\n"
    "            4 training failed (NaN loss, divergence, or an emptied node; the last good\n"
    "              checkpoint is kept), 130 interrupted by Ctrl-C, 143 stopped by SIGTERM\n"
    "              (a checkpoint was saved; continue with --resume)\n";

using gs::tools::Flags;
using gs::tools::UsageError;

struct Args {
  std::string config;
  std::vector<std::string> overrides;
  bool help = false, plan = false, json = false, resume = false, no_progress = false;
  int stop_after = 0;
  std::string device, data, out;
};

Args parse_args(int argc, char** argv) {
  const Flags flags(argc, argv,
                    {{"--config", true}, {"--set", true, /*repeatable=*/true}, {"--plan"},
                     {"--json"}, {"--device", true}, {"--data", true}, {"--out", true},
                     {"--resume"}, {"--stop-after", true}, {"--no-progress"}, {"--help"}});
  Args a;
  a.help = flags.has("--help");
  if (a.help) return a;
  a.config = flags.required("--config");
  for (const std::string& kv : flags.values("--set")) {
    if (kv.find('=') == std::string::npos || kv.front() == '=')
      throw UsageError("--set expects KEY=VALUE, got '" + kv + "'");
    a.overrides.push_back(kv);
  }
  a.plan = flags.has("--plan");
  a.json = flags.has("--json");
  if (a.json && !a.plan) throw UsageError("--json goes with --plan");
  a.resume = flags.has("--resume");
  a.stop_after = flags.integer("--stop-after", 1, 100000000, 0);
  a.no_progress = flags.has("--no-progress");
  // Empty means "the config's": run() only overrides what was given.
  a.device = flags.value("--device");
  a.data = flags.value("--data");
  a.out = flags.value("--out");
  return a;
}

// Whether the plan should count a CUDA context: the device the run would use.
bool plans_for_gpu(const std::string& device) {
  if (device == "cpu") return false;
  if (device == "auto") return gs::cuda_available();
  return true;  // cuda / cuda:N: planning needs no GPU present
}

int run(const Args& args) {
  std::vector<std::string> overrides = args.overrides;
  if (!args.data.empty()) overrides.push_back("data.path=" + args.data);
  if (!args.out.empty()) overrides.push_back("out_dir=" + args.out);
  if (!args.device.empty()) overrides.push_back("device=" + args.device);
  const gs::Config config = gs::load_config(args.config, overrides);

  const bool gpu = plans_for_gpu(config.device);
  const gs::MemoryPlan plan =
      gs::plan_memory(gs::plan_inputs_from_config(config, gpu), gs::MemoryModel());
  if (args.plan) {
    if (args.json) {
      std::cout << gs::format_plan_json(plan) << "\n";
    } else {
      std::cout << gs::format_plan_table(
          plan, config.source_file + (gpu ? " (for a CUDA device)" : " (for the CPU backend)"));
    }
    if (!plan.fits) {
      std::fprintf(stderr, "gstrain: %s\n", plan.refusal.c_str());
      return kExitDoesNotFit;
    }
    return 0;
  }
  gs::TrainerOptions options;
  options.resume = args.resume;
  options.progress = args.no_progress ? 0 : -1;
  options.stop_after = args.stop_after;
  const gs::TrainSummary s = gs::run_training(config, options);
  std::printf("gstrain: %d steps, test PSNR %.2f dB, SSIM %.4f (%zu views), %zu Gaussians, "
              "%.1f s, peak %s of %s budget; outputs in %s\n",
              s.iterations_done, s.test_psnr, s.test_ssim, s.test_views, s.gaussians,
              s.train_seconds, gs::format_bytes(s.peak_bytes).c_str(),
              gs::format_bytes(s.budget_bytes).c_str(), config.out_dir.c_str());
  if (s.interrupted) {
    std::fprintf(stderr, "gstrain: stopped at step %d%s; continue with --resume\n",
                 s.iterations_done, s.stop_signal == SIGTERM ? " by SIGTERM" : "");
    return s.stop_signal == SIGTERM ? kExitTerminated : kExitInterrupted;
  }
  return 0;
}

// Prints a gstrain error and its hint; returns the exit code it maps to.
int report(const gs::Error& e, int exit_code) {
  std::fprintf(stderr, "gstrain: %s\n", e.what());
  if (!e.hint().empty()) std::fprintf(stderr, "  hint: %s\n", e.hint().c_str());
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse_args(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "gstrain: %s\n\n%s", e.what(), kUsage);
    return kExitUsage;
  }
  if (args.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  try {
    return run(args);
  } catch (const gs::PlanDoesNotFit& e) {
    return report(e, kExitDoesNotFit);
  } catch (const gs::TrainingFailed& e) {
    return report(e, kExitTrainingFailed);
  } catch (const gs::ConfigError& e) {
    return report(e, kExitUsage);
  } catch (const gs::DataError& e) {
    return report(e, kExitUsage);
  } catch (const gs::Error& e) {
    return report(e, kExitRuntime);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gstrain: unexpected error: %s\n", e.what());
    return kExitRuntime;
  }
}
