#pragma once
// SPEC §3 step 3: the alternatives. Among the feasible candidates, those not dominated in
// (predicted loss, active parameters = inference cost, total parameters = memory), thinned to
// about `rows` spread evenly in log active parameters among those within 10% of the chosen
// loss (tiny models that are far worse are on the front too, but are no alternative); the
// chosen one is always kept.
#include <cstddef>
#include <vector>

#include "planner/architecture_search.h"

namespace moeplan::planner {

// Indices of the non-dominated candidates (a dominates b when it is no worse in all three and
// better in one), sorted by active parameters.
std::vector<std::size_t> pareto_front(const std::vector<Candidate>& candidates);

inline constexpr double kAlternativeLossWindow = 0.10;  // relative to the chosen loss

// At most `rows` indices of `front` with loss <= (1 + kAlternativeLossWindow)·chosen loss,
// spread over log active parameters, always with `chosen`; sorted by active parameters.
std::vector<std::size_t> thin_front(const std::vector<Candidate>& candidates,
                                    const std::vector<std::size_t>& front, std::size_t chosen,
                                    std::size_t rows);

}  // namespace moeplan::planner
