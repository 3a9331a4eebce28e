#include "verify/check/verify_plots.h"

#include <cmath>
#include <filesystem>
#include <sstream>

#include "verify/check/ledger_runs.h"

namespace moeplan::verify {
namespace {

using planner::gnuplot_text;

std::string data_block(const std::string& name, const std::vector<std::vector<double>>& rows) {
  std::ostringstream s;
  s.precision(10);
  s << "$" << name << " << EOD\n";
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) s << (i ? " " : "") << row[i];
    s << "\n";
  }
  s << "EOD\n";
  return s.str();
}

std::string fit_plot(const law::ScalingLaw& law, const std::vector<LedgerRow>& rows) {
  std::vector<std::vector<double>> points;
  double lo = INFINITY, hi = 0;
  for (const auto& r : ok_rows(rows)) {
    const double predicted = law::predict_loss(law, r.params, r.tokens, r.sparsity);
    points.push_back({predicted, *r.val_loss});
    lo = std::min({lo, predicted, *r.val_loss});
    hi = std::max({hi, predicted, *r.val_loss});
  }
  std::ostringstream c;
  c.precision(10);
  c << "set title '"
    << gnuplot_text("the fitted law over the sweep's " + std::to_string(points.size()) + " runs")
    << "'\nset xlabel 'predicted loss'\nset ylabel 'measured val loss'\nset grid\n"
    << data_block("runs", points) << data_block("diagonal", {{lo, lo}, {hi, hi}})
    << "plot $runs using 1:2 with points pt 7 title 'runs', "
       "$diagonal using 1:2 with lines dt 2 title 'measured = predicted'\n";
  return c.str();
}

std::string prediction_plot(const VerifyReport& report, const std::vector<LedgerRow>& rows) {
  const Prediction& p = report.prediction;
  std::vector<std::vector<double>> runs;
  for (const auto& r : ok_rows(rows)) runs.push_back({r.budget_flops, *r.val_loss});
  std::ostringstream c;
  c.precision(10);
  c << "set title '" << gnuplot_text("predicted and measured loss at the verify budget")
    << "'\nset xlabel 'training FLOPs C'\nset ylabel 'val loss'\nset logscale x\n"
       "set format x '10^{%L}'\nset grid\nset key top right\n"
       "set offsets graph 0.05, graph 0.08, graph 0.05, graph 0.05\n"
    << data_block("runs", runs)
    << data_block("predicted",
                  {{p.inputs.budget_flops, p.predicted_loss, p.interval.lo, p.interval.hi}});
  std::string plot =
      "plot $runs using 1:2 with points pt 6 title 'sweep runs', "
      "$predicted using 1:2:3:4 with yerrorbars pt 7 ps 1.5 title "
      "'predicted, 90% interval'";
  if (report.verdict) {
    c << data_block("measured", {{p.inputs.budget_flops, report.verdict->measured_loss}});
    plot += ", $measured using 1:2 with points pt 5 ps 1.5 title 'measured'";
  }
  c << plot << "\n";
  return c.str();
}

std::string curve_plot(const VerifyReport& report) {
  const Prediction& p = report.prediction;
  std::vector<std::vector<double>> val, train;
  for (const auto& point : report.log->val_curve)
    if (std::isfinite(point.step)) val.push_back({point.step, point.loss});
  for (const auto& point : report.log->train_curve)
    if (std::isfinite(point.step)) train.push_back({point.step, point.loss});
  std::ostringstream c;
  c.precision(10);
  c << "set title '" << gnuplot_text("the verify run's loss against the predicted final loss")
    << "'\nset xlabel 'step'\nset ylabel 'loss'\nset grid\nset key top right\n"
    << data_block("val", val) << data_block("train", train);
  c << "plot $val using 1:2 with linespoints pt 7 title 'val loss', ";
  if (!train.empty()) c << "$train using 1:2 with lines title 'train loss', ";
  c << p.predicted_loss << " with lines lw 2 title 'predicted', " << p.interval.lo
    << " with lines dt 2 title 'interval', " << p.interval.hi << " with lines dt 2 notitle\n";
  return c.str();
}

}  // namespace

planner::PlotOutcome render_verify_plots(const VerifyReport& report, const law::ScalingLaw& law,
                                         const std::vector<LedgerRow>& rows,
                                         const std::string& markdown_path) {
  const std::filesystem::path md(markdown_path);
  const std::string stem = md.stem().string();
  std::vector<planner::RenderedPlot> targets = {
      {"The fit over the sweep's runs", "", stem + "-fit.png"},
      {"Predicted and measured loss", "", stem + "-prediction.png"}};
  std::vector<std::string> bodies = {fit_plot(law, rows), prediction_plot(report, rows)};
  if (report.log && !report.log->val_curve.empty()) {
    targets.push_back({"The verify run's loss curve", "", stem + "-curve.png"});
    bodies.push_back(curve_plot(report));
  }
  for (auto& t : targets) t.path = (md.parent_path() / t.link).string();
  return planner::render_gnuplot(targets, bodies);
}

}  // namespace moeplan::verify
