// `verify`'s logic without training: the interval's parts and their combination, the verdict
// and its exit codes, the refusals, the training-log parsers, the prediction record, and the
// paper's claims on synthetic ledgers.
#include <gtest/gtest.h>

#include <cmath>

#include "law/fit_grid.h"
#include "law/presets.h"
#include "support/cli_runner.h"
#include "support/expect_error.h"
#include "verify/check/backtest.h"
#include "verify/check/claims.h"
#include "verify/check/neighbors.h"
#include "verify/check/prediction_interval.h"
#include "verify/check/prediction_record.h"
#include "verify/check/run_noise.h"
#include "verify/check/time_estimate.h"
#include "verify/check/training_log.h"
#include "verify/check/verdict.h"
#include "verify/check/verify_inputs.h"

namespace moeplan::verify {
namespace {

using testing::error_of;

LedgerRow row(double budget, double n, double s, double loss, std::uint64_t seed = 1) {
  LedgerRow r;
  r.key = "k" + std::to_string(budget) + "-" + std::to_string(n) + "-" + std::to_string(s);
  r.budget_flops = budget;
  r.params = n;
  r.active_params = n * (0.2 + 0.8 * (1 - s));
  r.tokens = budget / (6 * r.active_params);
  r.sparsity = s;
  r.experts = static_cast<std::int64_t>(std::lround(1 / (1 - s)));
  r.top_k = 1;
  r.granularity = 1;
  r.vocab = 256;
  r.context = 64;
  r.seed = seed;
  r.val_loss = loss;
  r.data_fingerprint = "fp";
  return r;
}

// A sweep whose losses follow `truth` exactly: 3 budgets × 4 sparsities × 4 sizes.
std::vector<LedgerRow> law_ledger(const law::ScalingLaw& truth) {
  std::vector<LedgerRow> rows;
  for (double c : {1e17, 3e17, 1e18})
    for (double s : {0.0, 0.5, 0.75, 0.875})
      for (int k = 0; k < 4; ++k) {
        const double n = 2e6 * std::pow(8.0, k / 3.0) * std::pow(c / 1e17, 0.5);
        LedgerRow r = row(c, n, s, 0);
        r.val_loss = law::predict_loss(truth, r.params, r.tokens, s);
        rows.push_back(r);
      }
  return rows;
}

TEST(VerifyInterval, BacktestErrorScalesWithTheLogDistance) {
  // Refit up to 1e14, held out 1e15 (one decade), verify at 1e17: two decades, twice the error.
  EXPECT_NEAR(scale_backtest_error(0.01, 1e14, 1e15, 1e17), 0.02, 1e-12);
  EXPECT_NEAR(scale_backtest_error(0.01, 1e14, 1e15, std::sqrt(10) * 1e15), 0.005, 1e-12);
  EXPECT_NE(error_of([] { scale_backtest_error(0.01, 1e14, 1e15, 1e15); }), "");
  EXPECT_NE(error_of([] { scale_backtest_error(0.01, 1e15, 1e14, 1e17); }), "");
}

TEST(VerifyInterval, PartsAddInQuadratureAndContainTheBootstrap) {
  IntervalParts parts;
  parts.predicted_loss = 3.0;
  parts.bootstrap = {2.97, 3.04};  // −0.03, +0.04
  law::Range only_bootstrap = combined_interval(parts);
  EXPECT_DOUBLE_EQ(only_bootstrap.lo, 2.97);
  EXPECT_DOUBLE_EQ(only_bootstrap.hi, 3.04);

  parts.backtest = BacktestPart{0.01, 1e15, 1e14, 4, 0.01};  // ±0.03 at L̂ = 3
  parts.noise = NoisePart{0.04 / interval_z(), 2, 4};        // ±0.04
  const law::Range all = combined_interval(parts);
  EXPECT_NEAR(all.lo, 3.0 - std::sqrt(0.03 * 0.03 + 0.03 * 0.03 + 0.04 * 0.04), 1e-12);
  EXPECT_NEAR(all.hi, 3.0 + std::sqrt(0.04 * 0.04 + 0.03 * 0.03 + 0.04 * 0.04), 1e-12);

  // A bootstrap interval that misses the point prediction is kept whole.
  parts.bootstrap = {3.01, 3.02};
  const law::Range shifted = combined_interval(parts);
  EXPECT_LE(shifted.lo, 3.0 - 0.05 + 1e-12);
  EXPECT_GE(shifted.hi, 3.02);
  EXPECT_NEAR(interval_z(), 1.6449, 1e-4);
}

TEST(VerifyInterval, BacktestOfAnExactLawIsNearZero) {
  const law::ScalingLaw truth = law::preset_law("hoffmann2022");
  std::vector<LedgerRow> rows;
  for (const auto& r : law_ledger(truth))
    if (r.sparsity == 0) rows.push_back(r);
  law::FitSettings settings;
  settings.form = law::LawForm::kDense;
  settings.starts = law::all_starts(law::coarse_grid(law::LawForm::kDense));
  const auto outcome = backtest_largest_budget(rows, settings, 1e19);
  ASSERT_TRUE(std::holds_alternative<BacktestPart>(outcome))
      << std::get<BacktestMissing>(outcome).reason;
  const auto& part = std::get<BacktestPart>(outcome);
  EXPECT_EQ(part.held_out_runs, 4u);
  EXPECT_DOUBLE_EQ(part.held_out_budget_flops, 1e18);
  EXPECT_DOUBLE_EQ(part.fit_max_budget_flops, 3e17);
  EXPECT_LT(part.relative_error, 2e-3);
  EXPECT_NEAR(part.scaled_relative_error,
              part.relative_error * std::log(10.0) / std::log(1e18 / 3e17), 1e-12);
}

TEST(VerifyInterval, BacktestNeedsTwoBudgetsAndEnoughRuns) {
  law::FitSettings settings;
  settings.form = law::LawForm::kDense;
  std::vector<LedgerRow> one_budget = {row(1e17, 1e6, 0, 3), row(1e17, 2e6, 0, 2.9)};
  const auto none = backtest_largest_budget(one_budget, settings, 1e19);
  ASSERT_TRUE(std::holds_alternative<BacktestMissing>(none));
  EXPECT_NE(std::get<BacktestMissing>(none).reason.find("two"), std::string::npos);
  std::vector<LedgerRow> few = {row(1e17, 1e6, 0, 3), row(1e18, 2e6, 0, 2.9)};
  const auto too_few = backtest_largest_budget(few, settings, 1e19);
  ASSERT_TRUE(std::holds_alternative<BacktestMissing>(too_few));
  EXPECT_NE(std::get<BacktestMissing>(too_few).reason.find("needs 6"), std::string::npos);
}

TEST(VerifyInterval, NoiseIsThePooledStdOfReplicates) {
  std::vector<LedgerRow> rows = {row(1e17, 1e6, 0, 3.0, 1), row(1e17, 1e6, 0, 3.2, 2),
                                 row(1e17, 2e6, 0, 2.0, 1), row(1e17, 2e6, 0, 2.1, 2),
                                 row(1e17, 2e6, 0, 2.2, 3), row(1e17, 4e6, 0, 9.0, 1)};
  rows[1].key = "replicate";
  const auto noise = replicate_noise(rows);
  ASSERT_TRUE(noise);
  EXPECT_EQ(noise->groups, 2u);
  EXPECT_EQ(noise->replicates, 5u);
  // (0.1² + 0.1²) + (0.1² + 0 + 0.1²) over (1 + 2) degrees of freedom.
  EXPECT_NEAR(noise->std_loss, std::sqrt(0.04 / 3), 1e-12);
  rows[4].status = RunStatus::kDiverged;  // only ok rows count
  rows[4].val_loss.reset();
  EXPECT_NEAR(replicate_noise(rows)->std_loss, std::sqrt(0.025 / 2), 1e-12);
  EXPECT_FALSE(replicate_noise({row(1e17, 1e6, 0, 3.0)}));
}

TEST(VerifyVerdict, PassNeedsToleranceAndInterval) {
  const law::Range interval{2.9, 3.1};
  const Verdict pass = judge(3.0, interval, 3.05, 0.02);
  EXPECT_TRUE(pass.passed());
  EXPECT_EQ(pass.exit_code(), kExitVerifyPass);
  EXPECT_EQ(verdict_line(pass), "PASS");
  EXPECT_NEAR(pass.relative_error, 0.05 / 3, 1e-12);

  const Verdict off = judge(3.0, interval, 3.09, 0.02);  // 3 % off, inside the interval
  EXPECT_FALSE(off.within_tolerance);
  EXPECT_TRUE(off.inside_interval);
  EXPECT_EQ(off.exit_code(), kExitVerifyFail);
  EXPECT_NE(verdict_line(off).find("tolerance"), std::string::npos);
  EXPECT_EQ(verdict_line(off).find("outside"), std::string::npos);

  const Verdict outside = judge(3.0, {2.99, 3.01}, 3.03, 0.02);  // 1 %, outside
  EXPECT_TRUE(outside.within_tolerance);
  EXPECT_FALSE(outside.inside_interval);
  EXPECT_NE(verdict_line(outside).find("outside the interval"), std::string::npos);

  const Verdict both = judge(3.0, interval, 2.5, 0.02);
  EXPECT_FALSE(both.within_tolerance || both.inside_interval);
  EXPECT_NE(verdict_line(both).find(";"), std::string::npos);
  // Distinct from an error (1), a usage error (2) and an interrupt (130).
  EXPECT_NE(kExitVerifyFail, 1);
  EXPECT_NE(kExitVerifyFail, 2);
  EXPECT_NE(kExitVerifyFail, 130);
  EXPECT_NE(error_of([&] { judge(3.0, interval, -1, 0.02); }), "");
  EXPECT_NE(error_of([&] { judge(3.0, interval, 3.0, 0); }), "");
}

TEST(VerifyRefusals, LedgerOfOtherDataOrAnotherSweep) {
  SweepSetup setup;
  setup.data_fingerprint = "fp";
  setup.vocab_size = 256;
  setup.context = 64;
  std::vector<LedgerRow> rows = {row(1e17, 1e6, 0, 3)};
  EXPECT_EQ(error_of([&] { check_ledger_matches_setup(rows, setup, "S/runs.csv"); }), "");
  rows[0].data_fingerprint = "other";
  EXPECT_NE(
      error_of([&] { check_ledger_matches_setup(rows, setup, "S/runs.csv"); }).find("other data"),
      std::string::npos);
  rows[0].data_fingerprint = "fp";
  rows[0].context = 128;
  EXPECT_NE(error_of([&] {
              check_ledger_matches_setup(rows, setup, "S/runs.csv");
            }).find("not of this sweep"),
            std::string::npos);
}

TEST(VerifyRefusals, LawWithoutBootstrapOrFromAnotherSweep) {
  law::ScalingLaw law = law::preset_law("abnar2025");
  const std::string message = error_of([&] { require_bootstrap(law, "fit.json", "S"); });
  EXPECT_NE(message.find("law fit S/runs.csv --bootstrap 100"), std::string::npos) << message;
  law.bootstrap.push_back(law.coefficients);
  EXPECT_EQ(error_of([&] { require_bootstrap(law, "fit.json", "S"); }), "");

  const std::vector<LedgerRow> rows = {row(1e17, 1e6, 0, 3), row(1e18, 1e6, 0, 3)};
  law.domain.budget_flops = law::Range{1e17, 1e18};
  EXPECT_EQ(error_of([&] { check_law_fitted_on_ledger(law, rows, "fit.json"); }), "");
  law.domain.budget_flops = law::Range{1e19, 1e21};
  EXPECT_NE(error_of([&] {
              check_law_fitted_on_ledger(law, rows, "fit.json");
            }).find("not on this sweep"),
            std::string::npos);
}

TEST(VerifyRefusals, BudgetMustExceedTheLargestSwept) {
  SweepSetup setup;
  setup.budgets_flops = {1e13, 1e14};
  const std::vector<LedgerRow> rows = {row(3e14, 1e6, 0, 3)};  // a bracketing extra budget
  EXPECT_DOUBLE_EQ(largest_swept_budget(setup, rows), 3e14);
  EXPECT_NE(error_of([] { check_verify_budget(3e14, 3e14); }), "");
  EXPECT_NE(error_of([] { check_verify_budget(1e14, 3e14); }), "");
  EXPECT_EQ(error_of([] { check_verify_budget(1e15, 3e14); }), "");
  setup.experts = {1, 2, 4, 8};
  setup.top_k = 1;
  EXPECT_DOUBLE_EQ(largest_swept_sparsity(setup), 0.875);
}

TEST(VerifyLog, MoeplanJsonLinesLastValidationLoss) {
  const std::string text =
      "{\"step\":0,\"tokens\":0,\"val_loss\":5.5}\n"
      "{\"step\":10,\"train_loss\":4.1,\"lr\":0.001}\n"
      "{\"step\":20,\"train_loss\":3.9,\"val_loss\":3.95}\n"
      "{\"step\":30,\"train_loss\":3.8}\n";
  const TrainingLog log = parse_training_log(text, "log.jsonl");
  EXPECT_EQ(log.format, "moeplan-jsonl");
  EXPECT_DOUBLE_EQ(log.final_val_loss, 3.95);
  ASSERT_EQ(log.val_curve.size(), 2u);
  EXPECT_DOUBLE_EQ(log.val_curve[1].step, 20);
  EXPECT_EQ(log.train_curve.size(), 3u);
  EXPECT_NE(error_of([] {
              parse_training_log("{\"step\":1,\"train_loss\":3}\n", "a.jsonl");
            }).find("no validation loss"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_training_log("{\"val_loss\":3}\nnot json\n", "b.jsonl");
            }).find("b.jsonl:2"),
            std::string::npos);
}

TEST(VerifyLog, MegatronValidationLines) {
  // The format of Megatron-LM's training.py, evaluate_and_print_results.
  const std::string text =
      " iteration      100/    1000 | consumed samples: 800 | lm loss: 3.200000E+00 |\n"
      "-----------------------------------------------------------------------------\n"
      " validation loss at iteration 500 | lm loss value: 2.500000E+00 | lm loss PPL: "
      "1.218249E+01 | \n"
      " validation loss at iteration 1000 | lm loss value: 2.345678E+00 | lm loss PPL: "
      "1.043910E+01 | \n"
      " validation loss at the end of training for test data | lm loss value: 2.100000E+00 | "
      "lm loss PPL: 8.166170E+00 | \n";
  const TrainingLog log = parse_training_log(text, "megatron.log");
  EXPECT_EQ(log.format, "megatron");
  EXPECT_DOUBLE_EQ(log.final_val_loss, 2.345678);  // the test-data line is not validation
  ASSERT_EQ(log.val_curve.size(), 2u);
  EXPECT_DOUBLE_EQ(log.val_curve[0].step, 500);
  const TrainingLog end = parse_training_log(
      text +
          " validation loss at the end of training for val data | lm loss value: "
          "2.300000E+00 | lm loss PPL: 9.974182E+00 | \n",
      "m.log");
  EXPECT_DOUBLE_EQ(end.final_val_loss, 2.3);
  EXPECT_TRUE(std::isnan(end.val_curve.back().step));
  EXPECT_NE(error_of([] {
              parse_training_log(" validation loss at iteration 5 | oops\n", "x");
            }).find("lm loss value"),
            std::string::npos);
}

Prediction sample_prediction() {
  Prediction p;
  p.inputs = {"law", "ledger", "sweep", "", 1e19, 0.875, 0.02};
  p.architecture = law::make_paper_architecture(128, 2, 2, 8, 1, 1, 256, 64);
  p.total_params = 2e6;
  p.active_params = 5e5;
  p.sparsity = 0.875;
  p.tokens = 1e9;
  p.predicted_loss = 3.0;
  p.parts.predicted_loss = 3.0;
  p.parts.bootstrap = {2.95, 3.05};
  p.parts.backtest = BacktestPart{0.01, 1e18, 3e17, 4, 0.02};
  p.parts.noise_missing = "no replicates";
  p.interval = combined_interval(p.parts);
  p.moeplan_version = "0.1.0";
  return p;
}

TEST(VerifyPrediction, WrittenOnceReusedForTheSameInputsRefusedForOthers) {
  testing::TempDir dir;
  const auto path = dir / kPredictionFileName;
  const Prediction p = sample_prediction();
  EXPECT_FALSE(stored_prediction(path, p.inputs));
  write_prediction(path, p);
  const auto again = stored_prediction(path, p.inputs);
  ASSERT_TRUE(again);
  EXPECT_DOUBLE_EQ(again->predicted_loss, 3.0);
  EXPECT_DOUBLE_EQ(again->interval.lo, p.interval.lo);
  EXPECT_EQ(again->architecture.experts, 8);
  ASSERT_TRUE(again->parts.backtest);
  EXPECT_DOUBLE_EQ(again->parts.backtest->scaled_relative_error, 0.02);
  EXPECT_FALSE(again->parts.noise);
  EXPECT_EQ(again->parts.noise_missing, "no replicates");

  const std::string before = testing::read_text_file(path);
  PredictionInputs other = p.inputs;
  other.tolerance = 0.05;  // a loosened tolerance is another prediction
  EXPECT_NE(error_of([&] { stored_prediction(path, other); }).find("tolerance"), std::string::npos);
  EXPECT_NE(error_of([&] { write_prediction(path, p); }).find("never overwritten"),
            std::string::npos);
  EXPECT_EQ(testing::read_text_file(path), before);
}

// Per budget, parabolas in log N whose minimum falls by 0.1 nats per unit of S.
std::vector<LedgerRow> sparsity_ledger() {
  std::vector<LedgerRow> rows;
  for (double c : {1e17, 3e17, 1e18})
    for (double s : {0.0, 0.5, 0.75, 0.875})
      for (int k = 0; k < 4; ++k) {
        const double n = 1e6 * std::pow(2.0, k);
        const double x = std::log(n / 3e6);
        rows.push_back(row(c, n, s, 3 - 0.1 * s + 0.05 * x * x - 0.01 * std::log(c / 1e17)));
      }
  return rows;
}

TEST(VerifyClaims, LossFallsWithSparsityPerBudget) {
  const auto rows = sparsity_ledger();
  const ClaimCheck holds = check_loss_falls_with_sparsity(rows);
  EXPECT_EQ(holds.status, ClaimStatus::kHolds);
  EXPECT_EQ(holds.evidence.size(), 3u);  // one line per budget

  auto broken = rows;
  for (auto& r : broken)
    if (r.sparsity == 0.875 && r.budget_flops == 3e17) *r.val_loss += 1.0;
  EXPECT_EQ(check_loss_falls_with_sparsity(broken).status, ClaimStatus::kDoesNotHold);

  std::vector<LedgerRow> dense;
  for (const auto& r : rows)
    if (r.sparsity == 0) dense.push_back(r);
  EXPECT_EQ(check_loss_falls_with_sparsity(dense).status, ClaimStatus::kNotEnoughData);
  EXPECT_EQ(check_loss_falls_with_sparsity({}).status, ClaimStatus::kNotEnoughData);
}

// Losses of a parabola in Ŝ = −log(1−S) whose vertex moves up with log N: S*(N) interior, rising.
std::vector<LedgerRow> parabola_ledger(double slope) {
  std::vector<LedgerRow> rows;
  for (double s : {0.0, 0.5, 0.75, 0.875, 0.9375})
    for (int k = 0; k < 4; ++k) {
      const double n = 1e6 * std::pow(4.0, k);
      const double vertex = 1.0 + slope * std::log(n / 1e6);
      const double s_hat = -std::log(1 - s);
      rows.push_back(row(1e17, n, s,
                         3 + 0.1 * (s_hat - vertex) * (s_hat - vertex) - 0.05 * std::log(n / 1e6)));
    }
  return rows;
}

TEST(VerifyClaims, OptimalSparsityInteriorAndRisingWithN) {
  const ClaimCheck holds = check_interior_optimal_sparsity(parabola_ledger(0.3));
  EXPECT_EQ(holds.status, ClaimStatus::kHolds) << holds.evidence.front();
  const ClaimCheck falls = check_interior_optimal_sparsity(parabola_ledger(-0.3));
  EXPECT_EQ(falls.status, ClaimStatus::kDoesNotHold) << falls.evidence.front();
  std::vector<LedgerRow> two_sparsities;
  for (const auto& r : parabola_ledger(0.3))
    if (r.sparsity < 0.6) two_sparsities.push_back(r);
  EXPECT_EQ(check_interior_optimal_sparsity(two_sparsities).status, ClaimStatus::kNotEnoughData);
}

TEST(VerifyNeighbors, HalfAndTwiceTheExpertsAtTheSameK) {
  const auto planned = law::make_paper_architecture(128, 2, 2, 8, 2, 1, 256, 64);
  const auto n = neighbor_architectures(planned);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0].experts, 4);
  EXPECT_EQ(n[1].experts, 16);
  EXPECT_EQ(n[0].active_experts, 2);
  EXPECT_EQ(n[1].d_model, 128);
  // E/2 below K has no lower neighbour.
  const auto dense_ish = law::make_paper_architecture(128, 2, 2, 2, 2, 1, 256, 64);
  ASSERT_EQ(neighbor_architectures(dense_ish).size(), 1u);
  EXPECT_EQ(neighbor_architectures(dense_ish)[0].experts, 4);

  std::vector<MeasuredModel> models = {{planned, 0.75, 3.0, 2.9, true},
                                       {n[0], 0.5, 3.1, 3.0, false},
                                       {n[1], 0.875, 2.95, 2.95, false}};
  EXPECT_EQ(planned_sparsity_is_best(models), std::optional<bool>(true));
  EXPECT_NE(neighbors_line(models).find("had the lowest"), std::string::npos);
  models[2].measured_loss = 2.8;
  EXPECT_EQ(planned_sparsity_is_best(models), std::optional<bool>(false));
  EXPECT_NE(neighbors_line(models).find("E = 16"), std::string::npos);
  models[1].measured_loss.reset();
  models[2].measured_loss.reset();
  EXPECT_FALSE(planned_sparsity_is_best(models));
}

TEST(VerifyTime, EstimateFromTheLargestBudgetsMeasuredSpeed) {
  std::vector<LedgerRow> rows = {row(1e13, 1e6, 0, 3), row(1e14, 1e6, 0, 3), row(1e14, 2e6, 0, 3),
                                 row(1e14, 4e6, 0, 3)};
  EXPECT_FALSE(measured_flops_per_second(rows));  // no times
  rows[0].seconds = 1;                            // 1e13 FLOP/s at the smaller budget: not used
  rows[1].seconds = 10;                           // 1e13
  rows[2].seconds = 20;                           // 5e12
  rows[3].seconds = 5;                            // 2e13
  EXPECT_DOUBLE_EQ(*measured_flops_per_second(rows), 1e13);  // the median
  EXPECT_EQ(error_of([] { check_time_limit(1e15, 1e13, 100); }), "");
  const std::string message = error_of([] { check_time_limit(1e16, 1e13, 100); });
  EXPECT_NE(message.find("1.00e+15 FLOPs would fit"), std::string::npos) << message;
}

}  // namespace
}  // namespace moeplan::verify
