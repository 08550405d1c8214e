// sigaction, signal, bsd_signal, sysv_signal, siginterrupt, and the System V
// sigset, sighold, sigrelse, sigignore, sigpause. For the signals
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

int ptshim::program_sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
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

PTSHIM_EXPORT int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  return program_sigaction(sig, act, old);
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

// The System V family. glibc's own versions reach the kernel through its
// internal __sigaction, __sigprocmask and __sigsuspend: they would bypass
// the catcher and the per-thread masks (and sigpause would block every
// thread), so they are made of the interposed calls here, as glibc makes
// them of its own.
namespace {
// The calling thread's mask with `sig` blocked or not; its old mask in `old`.
int mask_one(const char* function, int how, int sig, sigset_t* old) {
  if (sig <= 0 || sig >= NSIG) {
    errno = EINVAL;
    return -1;
  }
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  ShimEntry entry(function);
  if (int err = signal_mask_change(current(), how, &one, old)) {
    errno = err;
    return -1;
  }
  return 0;
}
}  // namespace

PTSHIM_EXPORT sighandler_t sigset(int sig, sighandler_t disp) {
  sigset_t old_mask;
  struct sigaction old;
  if (disp == SIG_HOLD) {
    if (mask_one(__func__, SIG_BLOCK, sig, &old_mask) != 0) return SIG_ERR;
    if (sigismember(&old_mask, sig) == 1) return SIG_HOLD;
    if (sigaction(sig, nullptr, &old) < 0) return SIG_ERR;
    return old.sa_handler;
  }
  if (disp == SIG_ERR || sig <= 0 || sig >= NSIG) {
    errno = EINVAL;
    return SIG_ERR;
  }
  struct sigaction act;
  memset(&act, 0, sizeof act);
  act.sa_handler = disp;
  sigemptyset(&act.sa_mask);
  if (sigaction(sig, &act, &old) < 0) return SIG_ERR;
  if (mask_one(__func__, SIG_UNBLOCK, sig, &old_mask) != 0) return SIG_ERR;
  return sigismember(&old_mask, sig) == 1 ? SIG_HOLD : old.sa_handler;
}

PTSHIM_EXPORT int sighold(int sig) { return mask_one(__func__, SIG_BLOCK, sig, nullptr); }

PTSHIM_EXPORT int sigrelse(int sig) { return mask_one(__func__, SIG_UNBLOCK, sig, nullptr); }

PTSHIM_EXPORT int sigignore(int sig) { return signal(sig, SIG_IGN) == SIG_ERR ? -1 : 0; }

// XSI sigpause: waits with `sig` unblocked. <signal.h> names it
// __xpg_sigpause (what sigpause is under _XOPEN_SOURCE / _GNU_SOURCE).
PTSHIM_EXPORT int __xpg_sigpause(int sig) {
  if (sig <= 0 || sig >= NSIG) {
    errno = EINVAL;
    return -1;
  }
  sigset_t mask;
  {
    ShimEntry entry(__func__);
    signal_mask_change(current(), SIG_BLOCK, nullptr, &mask);
    // No sigdelset import: the set rebuilt without `sig`.
    uint64_t bits = signal_mask_from_set(&mask) & ~signal_bit(sig);
    sigemptyset(&mask);
    for (int s = 1; s <= 64; ++s) {
      if ((bits & signal_bit(s)) != 0) sigaddset(&mask, s);
    }
  }
  return sigsuspend(&mask);
}

// BSD sigpause, the plain symbol: waits with `mask` (signals 1 to 32, as
// bits) as the mask. Named by asm label, <signal.h> giving the name to the
// XSI one.
PTSHIM_EXPORT int bsd_sigpause(int mask) __asm__("sigpause");
PTSHIM_EXPORT int bsd_sigpause(int mask) {
  sigset_t set;
  sigemptyset(&set);
  for (int s = 1; s <= 32; ++s) {
    if ((static_cast<unsigned>(mask) & (1u << (s - 1))) != 0) sigaddset(&set, s);
  }
  return sigsuspend(&set);
}
