// sigaction, signal, bsd_signal, sysv_signal, siginterrupt. For the signals
// ptshim handles itself (faults, SIGABRT, SIGQUIT, SIGALRM) the program's
// action is recorded and reported back, and ptshim's handler, which chains
// to it, stays installed (core/diag/crash.cc). For every other signal the
// action is recorded too, and a handler reaches the kernel as ptshim's
// catcher, which runs it on the thread the kernel would have chosen
// (core/signal/route.cc); SIG_DFL and SIG_IGN go to the kernel as they are.
// None of these touches core state: the catcher reads only the record.
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  // The kernel's (and glibc's) answers for a bad or unblockable signal.
  if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
    return __sigaction(sig, act, old);
  if (!signal_is_managed(sig)) return program_action_exchange(sig, act, old);
  ShimEntry entry(__func__);
  struct sigaction previous;
  program_action_get(sig, &previous);
  if (act != nullptr) program_action_set(sig, act);
  if (old != nullptr) *old = previous;
  return 0;
}

namespace {
sighandler_t install(int sig, sighandler_t handler, int flags, bool mask_itself) {
  if (handler == SIG_ERR || sig <= 0 || sig >= NSIG) {
    errno = EINVAL;
    return SIG_ERR;
  }
  struct sigaction act, old;
  memset(&act, 0, sizeof act);
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  if (mask_itself) sigaddset(&act.sa_mask, sig);
  act.sa_flags = flags;
  if (sigaction(sig, &act, &old) < 0) return SIG_ERR;
  return old.sa_handler;
}
}  // namespace

// glibc's signal(): BSD semantics (SA_RESTART, the signal blocked in its handler).
PTSHIM_EXPORT sighandler_t signal(int sig, sighandler_t handler) {
  return install(sig, handler, SA_RESTART, true);
}

PTSHIM_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler) {
  return signal(sig, handler);
}

// System V semantics: one-shot, not blocked in its handler, no restart.
// (What signal() is in strict ISO C mode, through glibc's headers.)
PTSHIM_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler) {
  return install(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}

PTSHIM_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler) {
  return sysv_signal(sig, handler);
}

// glibc's changes the kernel's action behind sigaction; this one changes the
// record the catcher follows as well.
PTSHIM_EXPORT int siginterrupt(int sig, int flag) {
  if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP) {
    errno = EINVAL;
    return -1;
  }
  if (!signal_is_managed(sig)) return program_action_interrupt(sig, flag);
  ShimEntry entry(__func__);
  struct sigaction a;
  program_action_get(sig, &a);
  if (flag != 0) {
    a.sa_flags &= ~SA_RESTART;
  } else {
    a.sa_flags |= SA_RESTART;
  }
  program_action_set(sig, &a);
  return 0;
}
