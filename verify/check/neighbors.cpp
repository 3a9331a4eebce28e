#include "verify/check/neighbors.h"

#include "util/format.h"

namespace moeplan::verify {

std::vector<law::MoeArchitecture> neighbor_architectures(const law::MoeArchitecture& planned) {
  std::vector<law::MoeArchitecture> out;
  out.reserve(2);
  if (planned.experts % 2 == 0 && planned.experts / 2 >= planned.active_experts) {
    law::MoeArchitecture fewer = planned;
    fewer.experts /= 2;
    out.push_back(fewer);
  }
  law::MoeArchitecture more = planned;
  more.experts *= 2;
  out.push_back(more);
  return out;
}

std::optional<bool> planned_sparsity_is_best(const std::vector<MeasuredModel>& models) {
  const MeasuredModel* planned = nullptr;
  const MeasuredModel* best = nullptr;
  std::size_t measured_neighbors = 0;
  for (const auto& m : models) {
    if (!m.measured_loss) continue;
    if (m.planned)
      planned = &m;
    else
      ++measured_neighbors;
    if (!best || *m.measured_loss < *best->measured_loss) best = &m;
  }
  if (!planned || measured_neighbors == 0) return std::nullopt;
  return *planned->measured_loss <= *best->measured_loss;
}

std::string neighbors_line(const std::vector<MeasuredModel>& models) {
  const auto best = planned_sparsity_is_best(models);
  if (!best) return "neighbours: not enough measurements";
  const MeasuredModel* lowest = nullptr;
  for (const auto& m : models)
    if (m.measured_loss && (!lowest || *m.measured_loss < *lowest->measured_loss)) lowest = &m;
  const std::string s = format_number("%.4g", lowest->sparsity);
  if (*best) return "the planned sparsity S = " + s + " had the lowest measured loss";
  return "the planned sparsity did not have the lowest measured loss: S = " + s +
         " (E = " + std::to_string(lowest->architecture.experts) + ") did, " +
         format_number("%.4f", *lowest->measured_loss);
}

}  // namespace moeplan::verify
