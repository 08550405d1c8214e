// sigaction and signal. For the signals ptshim handles itself (faults,
// SIGABRT, SIGQUIT, SIGALRM) the program's action is recorded and reported
// back, and ptshim's handler, which chains to it, stays installed
// (core/diag/crash.cc). Every other signal goes straight to the kernel.
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (!signal_is_managed(sig)) return __sigaction(sig, act, old);
  ShimEntry entry(__func__);
  struct sigaction previous;
  program_action_get(sig, &previous);
  if (act != nullptr) program_action_set(sig, act);
  if (old != nullptr) *old = previous;
  return 0;
}

// glibc's signal(): BSD semantics (SA_RESTART, the signal blocked in its handler).
PTSHIM_EXPORT sighandler_t signal(int sig, sighandler_t handler) {
  if (handler == SIG_ERR || sig <= 0 || sig >= NSIG) {
    errno = EINVAL;
    return SIG_ERR;
  }
  struct sigaction act, old;
  memset(&act, 0, sizeof act);
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  sigaddset(&act.sa_mask, sig);
  act.sa_flags = SA_RESTART;
  if (sigaction(sig, &act, &old) < 0) return SIG_ERR;
  return old.sa_handler;
}

PTSHIM_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler) {
  return signal(sig, handler);
}
