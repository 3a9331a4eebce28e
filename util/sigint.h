#pragma once
// Ctrl-C as a request, not a kill: while a SigintFlag lives, SIGINT only raises a flag that a
// long loop polls between units of work (training finishes its step and saves a checkpoint; the
// sweep passes the signal on to its workers and records what finished). The previous handler is
// restored when the flag goes out of scope.
#include <csignal>

namespace moeplan {

class SigintFlag {
 public:
  SigintFlag();  // clears the flag and installs the handler
  ~SigintFlag();
  SigintFlag(const SigintFlag&) = delete;
  SigintFlag& operator=(const SigintFlag&) = delete;

  bool raised() const;

 private:
  struct sigaction previous_ {};
};

}  // namespace moeplan
