#pragma once
// `verify --neighbors`: a check of the plan's choice of sparsity, not only of its loss. The
// planned model's neighbours at the same budget and the same active experts K: half and twice
// its experts E (the next lower and higher sparsity, same width and depth). Trained like it,
// the planned sparsity should have the lowest measured loss.
#include <optional>
#include <string>
#include <vector>

#include "law/architecture.h"

namespace moeplan::verify {

// The architectures with E/2 (when E/2 ≥ K and E is even) and 2·E experts.
std::vector<law::MoeArchitecture> neighbor_architectures(const law::MoeArchitecture& planned);

struct MeasuredModel {
  law::MoeArchitecture architecture;
  double sparsity = 0;
  double predicted_loss = 0;
  std::optional<double> measured_loss;  // none when not trained
  bool planned = false;
};

// Whether the planned model's measured loss is the lowest of all measured; nullopt when the
// planned model or every neighbour lacks a measurement.
std::optional<bool> planned_sparsity_is_best(const std::vector<MeasuredModel>& models);

// "the planned sparsity S had the lowest loss" or which one did.
std::string neighbors_line(const std::vector<MeasuredModel>& models);

}  // namespace moeplan::verify
