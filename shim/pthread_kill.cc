// pthread_kill, pthread_sigqueue: the signal is for the target user thread
// (core/signal/deliver.cc). If the thread accepts it, it takes it now: its
// sigwait gets it, or its handler runs when it next runs outside the shim
// (a thread blocked in the shim is woken for it, and its call resumes or
// fails with EINTR as the kernel's would), or the default action is taken.
// If it blocks the signal, the signal waits in it until it unblocks it or
// takes it with sigwait. Signal 0 checks that the thread exists.
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
// glibc's own (SIGCANCEL, SIGSETXID): not the program's to send.
bool is_internal(int sig) { return sig == 32 || sig == 33; }
}  // namespace

PTSHIM_EXPORT int pthread_kill(pthread_t thread, int sig) {
  ShimEntry entry(__func__);
  Thread* t = to_thread(thread);
  if (!thread_is_valid(t) || t->state == ThreadState::kExited) return ESRCH;
  if (sig < 0 || sig >= NSIG || is_internal(sig)) return EINVAL;
  if (sig != 0) signal_request(t, sig);
  return 0;
}

PTSHIM_EXPORT int pthread_sigqueue(pthread_t thread, int sig, const union sigval value) {
  ShimEntry entry(__func__);
  Thread* t = to_thread(thread);
  if (!thread_is_valid(t) || t->state == ThreadState::kExited) return ESRCH;
  if (sig < 0 || sig >= NSIG || is_internal(sig)) return EINVAL;
  if (sig == 0) return 0;
  siginfo_t info;
  memset(&info, 0, sizeof info);
  info.si_signo = sig;
  info.si_code = SI_QUEUE;
  info.si_pid = static_cast<pid_t>(arch::raw_syscall(SYS_getpid));
  info.si_uid = static_cast<uid_t>(arch::raw_syscall(SYS_getuid));
  info.si_value = value;
  signal_request(t, sig, &info);
  return 0;
}
