#include "cli/options.h"

#include <cerrno>
#include <cstring>
#include <iostream>

#include "util/error.h"
#include "util/files.h"
#include "util/text.h"
#include "util/units.h"

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
    throw Error(cut_long_inputs(e.what(), args));  // Boost quotes the bad argument whole
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
    errno = 0;
    std::cout << text;
    std::cout.flush();
    // A report piped into a full disk (`> file`) must not end in success.
    if (!std::cout)
      fail("cannot write to standard output: ", errno != 0 ? std::strerror(errno) : "write failed");
  } else {
    write_file_atomic(path, text);
  }
}

void exclusive(const po::variables_map& vm, const std::string& a, const std::string& b) {
  if (vm.count(a) && !vm[a].defaulted() && vm.count(b) && !vm[b].defaulted())
    fail("--", a, " and --", b, " cannot be used together");
}

std::optional<std::string> option_text(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) return std::nullopt;
  return vm[name].as<std::string>();
}

std::optional<double> option_number(const po::variables_map& vm, const char* name,
                                    double (*parse)(const std::string&, const std::string&)) {
  const auto text = option_text(vm, name);
  if (!text) return std::nullopt;
  return parse(*text, std::string("--") + name);
}

std::optional<std::int64_t> option_whole(const po::variables_map& vm, const char* name) {
  const auto text = option_text(vm, name);
  if (!text) return std::nullopt;
  return parse_positive_int(*text, std::string("--") + name);
}

}  // namespace moeplan::cli
