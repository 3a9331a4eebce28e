#include "cli/commands.h"

#include <iostream>

#include "util/error.h"
#include "util/text.h"

namespace moeplan::cli {
namespace {

std::vector<std::string> names_of(const std::vector<Command>& table) {
  std::vector<std::string> names;
  for (const auto& c : table) names.push_back(c.name);
  return names;
}

void print_group_help(const std::vector<Command>& table, const std::string& group) {
  std::cout << "usage: " << group << " COMMAND [OPTIONS]\n\ncommands:\n";
  for (const auto& c : table) {
    std::string name = c.name;
    name.resize(std::max<std::size_t>(name.size(), 10), ' ');
    std::cout << "  " << name << "  " << c.summary << "\n";
  }
  std::cout << "\n'" << group << " COMMAND --help' describes a command.\n";
}

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"plan", "plan the compute-optimal MoE for a FLOP budget and a memory cap", run_plan},
      {"law", "show, evaluate, fit scaling laws; isoFLOP surfaces", run_law},
      {"count", "count parameters and FLOPs of a Hugging Face config.json", run_count},
      {"data", "prepare llm.c token shards from text", run_data},
      {"train", "train an MoE (CUDA or CPU) on llm.c shards", run_train},
      {"sweep", "train a scaling-law grid (budgets x sparsities x sizes); the ledger law fit reads",
       run_sweep},
      {"verify", "check a law fitted on a sweep at a larger budget: predict, train, verdict",
       run_verify},
  };
  return table;
}

const std::vector<Command>& law_commands() {
  static const std::vector<Command> table = {
      {"show", "print a law's coefficients and fitted domain", run_law_show},
      {"eval", "evaluate a law at given N, D, S", run_law_eval},
      {"fit", "fit a law to training runs (CSV)", run_law_fit},
      {"surface", "fit per-budget isoFLOP surfaces (Eq. 8)", run_law_surface},
  };
  return table;
}

const std::vector<Command>& data_commands() {
  static const std::vector<Command> table = {
      {"prepare", "tokenize text files into llm.c train/val shards", run_data_prepare},
  };
  return table;
}

int dispatch(const std::vector<Command>& table, const std::string& group,
             const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    print_group_help(table, group);
    return args.empty() ? 2 : 0;
  }
  for (const auto& c : table) {
    if (c.name == args[0]) return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  // "moeplan" -> "command", "moeplan law" -> "law command"
  const std::string kind = group == "moeplan" ? "command" : group.substr(8) + " command";
  throw Error(unknown_name_message(kind, args[0], names_of(table)));
}

int run_law(const std::vector<std::string>& args) {
  return dispatch(law_commands(), "moeplan law", args);
}

int run_data(const std::vector<std::string>& args) {
  return dispatch(data_commands(), "moeplan data", args);
}

int run_moeplan(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--version" || args[0] == "-V")) {
    std::cout << "moeplan " << MOEPLAN_VERSION << "\n";
    return 0;
  }
  return dispatch(commands(), "moeplan", args);
}

}  // namespace moeplan::cli
