#pragma once
// The final held-out loss of a run trained elsewhere (`verify --log FILE`), from either
//   moeplan's JSON-lines training log (`train --log`): the last record with "val_loss"; or
//   Megatron-LM's text log: the last line of the form
//     " validation loss at iteration 1000 | lm loss value: 2.345678E+00 | lm loss PPL: ... |"
//   (training.py's evaluate_and_print_results; also "... at the end of training for val data |
//   ..."); lines for test data are skipped.
// The format is recognised from the text; the curve feeds the report's loss-curve plot.
#include <optional>
#include <string>
#include <vector>

namespace moeplan::verify {

struct LossPoint {
  double step = 0;  // optimizer step (Megatron: iteration); NaN when the line names none
  double loss = 0;
};

struct TrainingLog {
  std::string format;  // "moeplan-jsonl" or "megatron"
  double final_val_loss = 0;
  std::vector<LossPoint> val_curve;    // every validation loss, in file order
  std::vector<LossPoint> train_curve;  // moeplan's train_loss records (Megatron: none)
};

// Throws Error naming `origin` (and the line) when the text holds no validation loss or a
// record is malformed.
TrainingLog parse_training_log(const std::string& text, const std::string& origin);
TrainingLog read_training_log(const std::string& path);

}  // namespace moeplan::verify
