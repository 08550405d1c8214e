// The program's actions for the signals ptshim keeps its own handler for
// (signal_is_managed): recorded here, reported back by sigaction, and
// followed by ptshim's handlers (core/diag/crash.cc, the SIGALRM handler).
#include <signal.h>
#include <string.h>

#include "core/signal/signal.h"

namespace ptshim {

namespace {
struct sigaction g_program[NSIG];  // what the program asked for (or inherited)
}  // namespace

void program_action_get(int sig, struct sigaction* old) { *old = g_program[sig]; }

void program_action_set(int sig, const struct sigaction* act) { g_program[sig] = *act; }

void program_actions_record_inherited(int sig) { __sigaction(sig, nullptr, &g_program[sig]); }

bool program_has_handler(int sig) {
  const struct sigaction& a = g_program[sig];
  return (a.sa_flags & SA_SIGINFO) != 0 || (a.sa_handler != SIG_DFL && a.sa_handler != SIG_IGN);
}

bool program_ignores(int sig) {
  return (g_program[sig].sa_flags & SA_SIGINFO) == 0 && g_program[sig].sa_handler == SIG_IGN;
}

void program_handler_call(int sig, siginfo_t* info, void* ucontext) {
  struct sigaction a = g_program[sig];
  if ((a.sa_flags & SA_RESETHAND) != 0) {
    memset(&g_program[sig], 0, sizeof g_program[sig]);
    g_program[sig].sa_handler = SIG_DFL;
  }
  if ((a.sa_flags & SA_SIGINFO) != 0) {
    a.sa_sigaction(sig, info, ucontext);
  } else {
    a.sa_handler(sig);
  }
}

void signal_forward_program_alarm(int sig, siginfo_t* info, void* ucontext) {
  if (signal_is_blocked(current(), SIGALRM)) {
    signal_hold_program_alarm();  // for the next thread that unblocks it, or a sigwait
    return;
  }
  if (program_has_handler(sig)) {
    // Not program_handler_call: SA_RESETHAND is the kernel's business here,
    // and the kernel never sees the program's action for SIGALRM.
    const struct sigaction& a = g_program[sig];
    if ((a.sa_flags & SA_SIGINFO) != 0) {
      a.sa_sigaction(sig, info, ucontext);
    } else {
      a.sa_handler(sig);
    }
  } else if (!program_ignores(sig)) {
    raise_with_default_action(SIGALRM);  // dies as the handler returns, as without the shim
  }
}

}  // namespace ptshim
