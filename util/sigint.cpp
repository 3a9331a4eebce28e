#include "util/sigint.h"

namespace moeplan {
namespace {

volatile std::sig_atomic_t g_sigint_raised = 0;

extern "C" void raise_sigint_flag(int) {
  g_sigint_raised = 1;
}

}  // namespace

SigintFlag::SigintFlag() {
  g_sigint_raised = 0;
  struct sigaction action {};
  action.sa_handler = raise_sigint_flag;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous_);
}

SigintFlag::~SigintFlag() {
  sigaction(SIGINT, &previous_, nullptr);
}

bool SigintFlag::raised() const {
  return g_sigint_raised != 0;
}

}  // namespace moeplan
