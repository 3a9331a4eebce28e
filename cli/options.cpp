#include "cli/options.h"

#include <iostream>

#include "util/error.h"
#include "util/files.h"
#include "util/text.h"

namespace moeplan::cli {

std::optional<po::variables_map> parse_command(CommandSpec& spec,
                                               const std::vector<std::string>& args) {
  spec.options.add_options()("help,h", "print this help and exit");
  const po::options_description& all = spec.options;
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(spec.positional).run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: " << spec.usage << "\n\n" << spec.description << "\n\n" << all << "\n";
      return std::nullopt;
    }
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    std::vector<std::string> names;
    for (const auto& o : all.options()) names.push_back("--" + o->long_name());
    std::string option = e.get_option_name();
    throw Error(unknown_name_message("option", option, names));
  } catch (const po::error& e) {
    throw Error(e.what());
  }
  return vm;
}

namespace {
bool is_stdout(const std::string& path) { return path.empty() || path == "-"; }
}  // namespace

void check_output(const std::string& path) {
  if (!is_stdout(path)) check_writable(path);
}

void emit_output(const std::string& path, const std::string& text) {
  if (is_stdout(path)) {
    std::cout << text;
    std::cout.flush();
  } else {
    write_file_atomic(path, text);
  }
}

void exclusive(const po::variables_map& vm, const std::string& a, const std::string& b) {
  if (vm.count(a) && !vm[a].defaulted() && vm.count(b) && !vm[b].defaulted())
    fail("--", a, " and --", b, " cannot be used together");
}

}  // namespace moeplan::cli
