// Dying by a signal. Every path that ends the process by a signal — a fault
// after its report, a deadlock, the default action of a program SIGALRM, an
// overflow of an unguarded stack, ptshim's own fatal error — comes here, so
// the exit status and core dump are what they would be without ptshim.
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/base/base.h"

namespace ptshim {

void (*g_last_words)(int sig);

namespace {
// The signals whose default action is to ignore them, or to stop or
// continue the process.
bool default_keeps_process(int sig) {
  return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT || sig == SIGSTOP ||
         sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}
}  // namespace

void raise_with_default_action(int sig) {
  if (g_last_words != nullptr && !default_keeps_process(sig)) g_last_words(sig);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  __sigaction(sig, &dfl, nullptr);
  raise_on_this_thread(sig);
}

void raise_on_this_thread(int sig) {
  arch::raw_syscall(SYS_tgkill, arch::raw_syscall(SYS_getpid), arch::raw_syscall(SYS_gettid), sig);
}

void die_by_signal(int sig) {
  uint64_t unblock = uint64_t{1} << (sig - 1);
  arch::raw_syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, reinterpret_cast<long>(&unblock), 0,
                    sizeof unblock);
  raise_with_default_action(sig);
  __builtin_trap();  // not reached: the signal's default action ends the process
}

void fatal(const char* message) {
  Writer().str(message).chr('\n');
  die_by_signal(SIGABRT);
}

void exit_process_now(int status) {
  for (;;) arch::raw_syscall(SYS_exit_group, status);
}

}  // namespace ptshim
