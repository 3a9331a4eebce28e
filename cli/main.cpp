// moeplan: the thin entry point. Everything else is a library the tests call.
#include <csignal>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "util/error.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  // Past a file size limit (ulimit -f) the kernel sends SIGXFSZ, which kills by default; ignored,
  // the write fails with EFBIG instead and the writer's one-line error names the file.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    return moeplan::cli::run_moeplan(args);
  } catch (const moeplan::Error& e) {
    std::cerr << "moeplan: error: " << e.what() << "\n";
  } catch (const std::bad_alloc&) {
    std::cerr << "moeplan: error: out of memory\n";
  } catch (const std::exception& e) {
    std::cerr << "moeplan: internal error: " << e.what() << "\n";
  }
  return 1;
}
