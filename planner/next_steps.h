#pragma once
// The commands that check a plan, for the end of its report: a small sweep on the user's own
// data, the law fitted to it, a verify run beyond the sweep, and, for a model trained elsewhere
// (e.g. with Megatron-LM from `plan --export megatron`), verify on its log or measured loss.
#include <string>
#include <vector>

namespace moeplan::planner {

struct PlanResult;

// Budgets of the suggested check sweep (4 budgets spaced x3, small enough for one GPU) and the
// verify budget, 10x the largest (verify refuses a budget at or below the swept ones).
inline constexpr const char* kCheckSweepBudgets = "1e13,3e13,1e14,3e14";
inline constexpr const char* kCheckVerifyBudget = "3e15";

// One line each: the command, then "  # why".
std::vector<std::string> next_step_commands(const PlanResult& plan);

}  // namespace moeplan::planner
