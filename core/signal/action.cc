// The program's actions. For the signals ptshim keeps its own handler for
// (signal_is_managed) they are recorded here, reported back by sigaction,
// and followed by ptshim's handlers (core/diag/crash.cc, the SIGALRM
// handler). For every other signal the program's action is recorded too,
// and the kernel gets ptshim's catcher (route.cc) in place of a handler, so
// that ptshim chooses the thread it runs on; SIG_DFL and SIG_IGN go to the
// kernel as they are.
//
// The catcher is installed with the program's sa_mask and its SA_RESTART,
// SA_ONSTACK, SA_NODEFER, SA_NOCLDSTOP and SA_NOCLDWAIT, so the kernel's
// frame and restarts are what they would be for the program's handler.
// SA_RESETHAND is ptshim's to do: the catcher's first call may only record a
// signal for later, and the kernel would already have reset the action.
//
// A signal whose default action ignores it may have the catcher stand in for
// the program's SIG_DFL (signal_stand_in_for_default: SIGCHLD while a thread
// waits for a child, child.cc). It stays the kernel's action while the
// program's action is SIG_DFL, until signal_stand_down, and the signal's
// disposition is still the program's: ignored. It stands down when no one
// needs it, since a catcher interrupts the system calls a lone thread makes
// in the kernel (those SA_RESTART does not restart fail with EINTR), which
// the program's SIG_DFL never does.
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "core/signal/signal.h"

namespace ptshim {

namespace {
struct sigaction g_program[NSIG];  // what the program asked for (or inherited)
uint64_t g_recorded;               // the unmanaged signals set through program_action_exchange
uint64_t g_caught;                 // the unmanaged signals whose kernel action is the catcher
uint64_t g_catcher_blocks[NSIG];   // what the kernel blocks while the catcher runs
uint64_t g_standing_in;            // of the recorded, those whose SIG_DFL the catcher stands in for

constexpr int kPassedFlags = SA_RESTART | SA_ONSTACK | SA_NODEFER | SA_NOCLDSTOP | SA_NOCLDWAIT;

bool is_handler(const struct sigaction& a) {
  return (a.sa_flags & SA_SIGINFO) != 0 || (a.sa_handler != SIG_DFL && a.sa_handler != SIG_IGN);
}

// What the kernel gets for the program's SIG_DFL.
struct sigaction kernel_default_action(int sig) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  if ((g_standing_in & signal_bit(sig)) != 0) {
    dfl.sa_sigaction = signal_catch;
    dfl.sa_flags = SA_SIGINFO | SA_RESTART;  // nothing of the program's is interrupted
  }
  return dfl;
}

void kernel_default(int sig) {
  struct sigaction dfl = kernel_default_action(sig);
  __sigaction(sig, &dfl, nullptr);
}
}  // namespace

void program_action_get(int sig, struct sigaction* old) { *old = g_program[sig]; }

void program_action_set(int sig, const struct sigaction* act) { g_program[sig] = *act; }

void program_actions_record_inherited(int sig) { __sigaction(sig, nullptr, &g_program[sig]); }

bool program_has_handler(int sig) { return is_handler(g_program[sig]); }

bool program_ignores(int sig) {
  return (g_program[sig].sa_flags & SA_SIGINFO) == 0 && g_program[sig].sa_handler == SIG_IGN;
}

void program_handler_call(int sig, siginfo_t* info, void* ucontext) {
  struct sigaction a = g_program[sig];
  if (!is_handler(a)) {
    // The program changed its action after the signal was caught: what it
    // asks for now, as the kernel would have done at delivery.
    if (a.sa_handler == SIG_DFL) raise_with_default_action(sig);
    return;
  }
  if ((a.sa_flags & SA_RESETHAND) != 0) {
    memset(&g_program[sig], 0, sizeof g_program[sig]);
    g_program[sig].sa_handler = SIG_DFL;
    if (!signal_is_managed(sig)) {
      g_caught &= ~signal_bit(sig);
      kernel_default(sig);
    }
  }
  if ((a.sa_flags & SA_SIGINFO) != 0) {
    a.sa_sigaction(sig, info, ucontext);
  } else {
    a.sa_handler(sig);
  }
  signal_handler_ran();
}

int program_action_exchange(int sig, const struct sigaction* act, struct sigaction* old) {
  uint64_t bit = signal_bit(sig);
  struct sigaction previous;
  if ((g_recorded & bit) != 0) {
    previous = g_program[sig];
  } else if (__sigaction(sig, nullptr, &previous) != 0) {
    return -1;
  }
  if (act != nullptr) {
    struct sigaction kernel = *act;
    bool handler = is_handler(*act);
    if (handler) {
      kernel.sa_sigaction = signal_catch;
      kernel.sa_flags = (act->sa_flags & kPassedFlags) | SA_SIGINFO;
    } else if (act->sa_handler == SIG_DFL) {
      kernel = kernel_default_action(sig);
    } else {
      g_standing_in &= ~bit;  // the program ignores it: nothing will come
    }
    // The record first: a signal caught meanwhile finds the new action (or,
    // for SIG_DFL / SIG_IGN, program_handler_call does what it says).
    struct sigaction recorded = g_program[sig];
    g_program[sig] = *act;
    if (__sigaction(sig, &kernel, nullptr) != 0) {
      g_program[sig] = recorded;
      return -1;
    }
    g_recorded |= bit;
    if (handler) {
      uint64_t blocks = signal_mask_from_set(&act->sa_mask);
      if ((act->sa_flags & SA_NODEFER) == 0) blocks |= bit;
      g_catcher_blocks[sig] = blocks;
      g_caught |= bit;
    } else {
      g_caught &= ~bit;
    }
  }
  if (old != nullptr) *old = previous;
  return 0;
}

bool signal_stand_in_for_default(int sig) {
  uint64_t bit = signal_bit(sig);
  if ((g_standing_in & bit) != 0) return true;
  if (signal_is_managed(sig) || signal_facts(sig).default_action != SignalDefault::kIgnore) {
    return false;
  }
  struct sigaction now;
  if ((g_recorded & bit) != 0) {
    now = g_program[sig];
  } else if (__sigaction(sig, nullptr, &now) != 0) {
    return false;
  }
  if (is_handler(now) || now.sa_handler != SIG_DFL) return false;
  g_program[sig] = now;
  g_recorded |= bit;
  g_standing_in |= bit;
  g_catcher_blocks[sig] = bit;
  kernel_default(sig);
  return true;
}

void signal_stand_down(int sig) {
  uint64_t bit = signal_bit(sig);
  if ((g_standing_in & bit) == 0) return;
  g_standing_in &= ~bit;
  if ((g_caught & bit) == 0 && !program_ignores(sig)) kernel_default(sig);
}

int program_action_interrupt(int sig, int flag) {
  struct sigaction a;
  if (program_action_exchange(sig, nullptr, &a) != 0) return -1;
  if (flag != 0) {
    a.sa_flags &= ~SA_RESTART;
  } else {
    a.sa_flags |= SA_RESTART;
  }
  return program_action_exchange(sig, &a, nullptr);
}

Disposition signal_disposition(int sig) {
  if (signal_is_managed(sig)) {
    if (!signal_is_routed_when_handled(sig)) return Disposition::kDirect;  // core/diag chains
    if (program_has_handler(sig)) return Disposition::kCaught;
    return program_ignores(sig) ? Disposition::kIgnored : Disposition::kDefault;
  }
  if ((g_caught & signal_bit(sig)) != 0) return Disposition::kCaught;
  if ((g_standing_in & signal_bit(sig)) != 0)
    return Disposition::kIgnored;  // the program's SIG_DFL
  // The kernel's action is the truth here: glibc's own callers of
  // __sigaction (sigset, system) do not pass through ptshim.
  struct sigaction k;
  if (__sigaction(sig, nullptr, &k) != 0) return Disposition::kIgnored;
  if (is_handler(k)) return Disposition::kDirect;
  if (k.sa_handler == SIG_IGN) return Disposition::kIgnored;
  switch (signal_facts(sig).default_action) {
    case SignalDefault::kIgnore:
    case SignalDefault::kContinue:  // the kernel continued the process as it sent it
      return Disposition::kIgnored;
    default:
      return Disposition::kDefault;
  }
}

bool signal_handler_restarts(int sig) { return (g_program[sig].sa_flags & SA_RESTART) != 0; }

uint64_t signals_caught() {
  uint64_t caught = g_caught;
  const int managed_routed[] = {SIGALRM, SIGABRT, options().dump_signal};
  for (int sig : managed_routed) {
    if (signal_is_routed_when_handled(sig) && program_has_handler(sig)) caught |= signal_bit(sig);
  }
  return caught;
}

uint64_t signal_catcher_blocks(int sig) { return g_catcher_blocks[sig]; }

}  // namespace ptshim
