// Per-Gaussian tags of a tagged model (a rigid node's instance of each Gaussian) move with their
// rows: clone and split children carry the parent's tag, pruning compacts tags with the rows,
// and checkpoints save and restore them (and refuse a checkpoint tagged differently).
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "core/errors.h"
#include "formats/checkpoint.h"
#include "scene/densify.h"
#include "tests/test_support.h"

using namespace gs;

namespace {

// The identity of row i lives in its SH DC red coefficient (copied by every row move, unlike
// means, which splits resample) and its tag is a function of that identity.
int32_t tag_of(int id) {
  return 100 + id % 3;
}

// Tagged SH-degree-0 model of n Gaussians: Gaussian i at x = i, opacity logit 2 + 0.1 i (so the
// order of opacities is the order of ids), tiny scales, id i + 1 in its DC coefficient.
GaussianModel tagged_model(size_t n, size_t capacity) {
  GaussianModel m("vehicles", Device::cpu(), 0, capacity, true);
  GaussianCloud c;
  c.resize(n, 0);
  std::vector<int32_t> tags(n);
  for (size_t i = 0; i < n; ++i) {
    c.means[3 * i] = float(i);
    for (int j = 0; j < 3; ++j) c.log_scales[3 * i + j] = -5.f;
    c.quats[4 * i] = 1;
    c.opacity_logits[i] = 2.f + 0.1f * float(i);
    c.sh[3 * i] = float(i + 1);
    tags[i] = tag_of(int(i + 1));
  }
  m.load_cloud(c, tags);
  return m;
}

int id_of(const GaussianModel& m, size_t row) {
  return int(std::lround(m.params(GaussianParam::sh)[3 * row]));
}

// Every row's tag matches its identity; returns how many rows each identity has.
std::map<int, int> check_tags_aligned(const GaussianModel& m) {
  const std::vector<int32_t> tags = m.tags_to_host();
  REQUIRE(tags.size() == m.count());
  std::map<int, int> rows_of;
  for (size_t i = 0; i < m.count(); ++i) {
    const int id = id_of(m, i);
    ++rows_of[id];
    INFO("row " << i << ", Gaussian " << id);
    CHECK(tags[i] == tag_of(id));
  }
  return rows_of;
}

}  // namespace

TEST_CASE("tags: a tagged model loads its tags; untagged models have none", "[scene][tags]") {
  GaussianModel m = tagged_model(7, 16);
  CHECK(m.tagged());
  CHECK(m.tags_to_host().size() == 7);
  check_tags_aligned(m);
  GaussianModel plain("plain", Device::cpu(), 0, 16);
  CHECK_FALSE(plain.tagged());
  CHECK(plain.tags_to_host().empty());
  CHECK(m.allocated_bytes() == plain.allocated_bytes() + 16 * sizeof(int32_t));
}

TEST_CASE("tags: clone and split children carry the parent's tag; pruning keeps rows aligned",
          "[scene][tags][densify]") {
  GaussianModel m = tagged_model(12, 40);
  m.with_host_arrays(
      [](ModelHostArrays& a) {
        // Gaussians 3 and 7 (rows 2, 6) clone; 5 and 10 (rows 4, 9) are big and split; 1 and 8
        // (rows 0, 7) are transparent and pruned.
        for (size_t r : {2, 6, 4, 9}) {
          a.absgrad_accum[r] = 0.01f;
          a.grad_count[r] = 1;
        }
        float* log_scales = a.params[int(GaussianParam::log_scales)];
        for (size_t r : {4, 9})
          for (int j = 0; j < 3; ++j) log_scales[3 * r + j] = std::log(0.05f);
        for (size_t r : {0, 7}) a.params[int(GaussianParam::opacity)][r] = -10.f;
      },
      true);
  std::mt19937_64 rng(7);
  DensifySettings s;
  const DensifyResult r = densify_and_prune(m, s, rng);
  CHECK(r.cloned == 2);
  CHECK(r.split == 2);
  CHECK(r.pruned == 2);
  CHECK(m.count() == 12 + 2 + 2 - 2);
  const std::map<int, int> rows_of = check_tags_aligned(m);
  CHECK(rows_of.count(1) == 0);
  CHECK(rows_of.count(8) == 0);
  CHECK(rows_of.at(3) == 2);
  CHECK(rows_of.at(7) == 2);
  CHECK(rows_of.at(5) == 2);
  CHECK(rows_of.at(10) == 2);
  CHECK(rows_of.at(2) == 1);
}

TEST_CASE("tags: prune_lowest_opacity keeps tags aligned", "[scene][tags][densify]") {
  GaussianModel m = tagged_model(20, 20);
  CHECK(prune_lowest_opacity(m, 0.25) == 5);
  const std::map<int, int> rows_of = check_tags_aligned(m);
  CHECK(rows_of.size() == 15);
  for (int id = 1; id <= 5; ++id) CHECK(rows_of.count(id) == 0);  // the least opaque
}

TEST_CASE("tags: prune_where removes by tag, keeps rows and statistics aligned",
          "[scene][tags][densify]") {
  GaussianModel m = tagged_model(12, 12);
  // Statistics identify their row too: Gaussian i + 1 has i + 1 views.
  m.with_host_arrays(
      [](ModelHostArrays& a) {
        for (size_t i = 0; i < 12; ++i) {
          a.grad_count[i] = float(i + 1);
          a.absgrad_accum[i] = 0.5f * float(i + 1);
          a.max_screen_size[i] = 2.f * float(i + 1);
        }
      },
      true);
  auto tag_is = [](int32_t t) {
    return [t](const ModelHostArrays& a, size_t row) { return a.tags[row] == t; };
  };
  CHECK(prune_where(m, tag_is(tag_of(3)), 1) == 4);  // ids 3, 6, 9, 12
  CHECK(m.count() == 8);
  const std::map<int, int> rows_of = check_tags_aligned(m);
  for (int id : {3, 6, 9, 12}) CHECK(rows_of.count(id) == 0);
  for (size_t i = 0; i < m.count(); ++i) {
    const float id = float(id_of(m, i));
    INFO("row " << i << ", Gaussian " << id);
    CHECK(m.grad_count()[i] == id);
    CHECK(m.absgrad_accum()[i] == 0.5f * id);
    CHECK(m.max_screen_size()[i] == 2.f * id);
  }

  SECTION("never below min_keep") {
    CHECK(prune_where(
              m, [](const ModelHostArrays&, size_t) { return true; }, 3) == 5);
    CHECK(m.count() == 3);
    check_tags_aligned(m);
  }
}

TEST_CASE("tags: checkpoints save and restore tags, and refuse a tagging mismatch",
          "[scene][tags][checkpoint]") {
  gs::test::TempDir dir("ckpt_tags");
  const std::string path = dir / "tagged.ckpt";
  GaussianModel saved = tagged_model(9, 16);
  save_checkpoint(path, 5, {&saved}, {{"x", 1}});

  GaussianModel loaded("vehicles", Device::cpu(), 0, 16, true);
  const LoadedCheckpoint ck = load_checkpoint(path, {&loaded});
  CHECK(ck.step == 5);
  CHECK(loaded.count() == 9);
  CHECK(loaded.tags_to_host() == saved.tags_to_host());
  check_tags_aligned(loaded);

  // The untagged model of the same name refuses the tagged checkpoint, and the other way round.
  GaussianModel untagged("vehicles", Device::cpu(), 0, 16, false);
  CHECK_THROWS_WITH(load_checkpoint(path, {&untagged}),
                    Catch::Contains(path) && Catch::Contains("unexpected instance tags"));
  const std::string plain_path = dir / "plain.ckpt";
  GaussianModel plain("vehicles", Device::cpu(), 0, 16, false);
  plain.load_cloud(saved.to_cloud());
  save_checkpoint(plain_path, 6, {&plain}, {});
  GaussianModel tagged("vehicles", Device::cpu(), 0, 16, true);
  CHECK_THROWS_AS(load_checkpoint(plain_path, {&tagged}), IoError);
  CHECK_THROWS_WITH(load_checkpoint(plain_path, {&tagged}),
                    Catch::Contains("has no instance tags"));
}
