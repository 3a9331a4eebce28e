#pragma once
// The plots of `verify --format markdown`, rendered with gnuplot beside the Markdown file
// (planner::render_gnuplot: all or nothing, a missing gnuplot is a note):
//   REPORT-fit.png         the fit over the sweep's runs: measured against the law's prediction;
//   REPORT-prediction.png  loss against budget: the sweep's runs, the prediction at the verify
//                          budget with its interval, the measured loss;
//   REPORT-curve.png       the verify run's loss curve against the predicted final loss and the
//                          interval (when a curve is known).
#include <string>
#include <vector>

#include "law/scaling_law.h"
#include "planner/plots.h"
#include "verify/check/verify_report.h"
#include "verify/sweep/ledger.h"

namespace moeplan::verify {

planner::PlotOutcome render_verify_plots(const VerifyReport& report, const law::ScalingLaw& law,
                                         const std::vector<LedgerRow>& rows,
                                         const std::string& markdown_path);

}  // namespace moeplan::verify
