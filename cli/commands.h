#pragma once
// The subcommand table: name, one-line help, function. Each command lives in its own file and
// returns an exit code; errors are thrown as moeplan::Error and reported by `main` alone.
#include <string>
#include <vector>

namespace moeplan::cli {

using CommandFn = int (*)(const std::vector<std::string>& args);

struct Command {
  std::string name;
  std::string summary;
  CommandFn run;
};

// Top-level commands (`moeplan NAME ...`).
const std::vector<Command>& commands();
// `moeplan law NAME ...`
const std::vector<Command>& law_commands();
// `moeplan data NAME ...`
const std::vector<Command>& data_commands();

// Looks `args[0]` up in `table` and runs it with the rest; prints the group's help for no
// argument, -h or --help; an unknown name throws Error with a "did you mean".
int dispatch(const std::vector<Command>& table, const std::string& group,
             const std::vector<std::string>& args);

// The entry point `main` calls: returns the exit code, throws moeplan::Error.
int run_moeplan(const std::vector<std::string>& args);

// Commands (one file each).
int run_plan(const std::vector<std::string>& args);
int run_count(const std::vector<std::string>& args);
int run_law(const std::vector<std::string>& args);
int run_law_show(const std::vector<std::string>& args);
int run_law_eval(const std::vector<std::string>& args);
int run_law_fit(const std::vector<std::string>& args);
int run_law_surface(const std::vector<std::string>& args);
int run_data(const std::vector<std::string>& args);
int run_data_prepare(const std::vector<std::string>& args);
int run_train(const std::vector<std::string>& args);
int run_sweep(const std::vector<std::string>& args);
int run_verify(const std::vector<std::string>& args);

}  // namespace moeplan::cli
