#pragma once
// Shared Boost.Program_options plumbing for the subcommands: parsing with one-line errors
// ("unknown option '--budgit'; did you mean '--budget'?"), --help, and output destinations.
#include <boost/program_options.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moeplan::cli {

namespace po = boost::program_options;

struct CommandSpec {
  std::string usage;        // "moeplan plan --budget FLOPS [options]"
  std::string description;  // a paragraph shown by --help
  po::options_description options{"options", 100};
  po::positional_options_description positional;
};

// Parses `args` against `spec` (adds -h/--help itself). Returns nullopt after printing help;
// throws moeplan::Error on any parse problem.
std::optional<po::variables_map> parse_command(CommandSpec& spec,
                                               const std::vector<std::string>& args);

// Writes `text` to `path` atomically, or to stdout when `path` is empty or "-".
void emit_output(const std::string& path, const std::string& text);

// Fails before any work when emit_output(path, ...) could not write `path` (stdout always can).
void check_output(const std::string& path);

// A given option's text (options are declared as strings and parsed strictly by util/units.h).
std::optional<std::string> option_text(const po::variables_map& vm, const char* name);
// A given option parsed by `parse` (a util/units.h parser), which names "--NAME" in its errors.
std::optional<double> option_number(const po::variables_map& vm, const char* name,
                                    double (*parse)(const std::string&, const std::string&));
// A given option as a whole number > 0.
std::optional<std::int64_t> option_whole(const po::variables_map& vm, const char* name);

// Throws moeplan::Error when two mutually exclusive options are both given.
void exclusive(const po::variables_map& vm, const std::string& a, const std::string& b);

}  // namespace moeplan::cli
