// pthread_kill, pthread_sigqueue, raise (gsignal): the signal is for the
// target user thread (raise: the caller)
// (core/signal/deliver.cc). If the thread accepts it, it takes it now: its
// sigwait gets it, or its handler runs when it next runs outside the shim
// (a thread blocked in the shim is woken for it, and its call resumes or
// fails with EINTR as the kernel's would), or the default action is taken.
// If it blocks the signal, the signal waits in it until it unblocks it or
// takes it with sigwait. Signal 0 checks that the thread exists.
//
// glibc's raise sends the signal to the kernel thread, where a signal that
// every user thread blocks would stay pending for the whole process; here it
// is the caller's alone, as natively (pthread_create's new threads do not
// see it, another thread's unblocking does not take it). One the caller
// accepts has run its handler when raise returns. glibc's own calls (abort)
// still reach the kernel directly.
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
// glibc's own (SIGCANCEL, SIGSETXID): not the program's to send.
bool is_internal(int sig) { return sig == 32 || sig == 33; }

// glibc 2.34 and later: a thread that has exited (joined or not) is sent
// nothing, and that is success (its pthread_kill@@GLIBC_2.34).
int send_to(Thread* t, int sig) {
  if (!thread_is_slot(t)) return ESRCH;
  if (sig < 0 || sig >= NSIG || is_internal(sig)) return EINVAL;
  if (sig != 0 && t->state != ThreadState::kExited && t->state != ThreadState::kFree) {
    signal_request(t, sig);
  }
  return 0;
}
}  // namespace

PTSHIM_EXPORT int pthread_kill(pthread_t thread, int sig) {
  ShimEntry entry(__func__);
  return send_to(to_thread(thread), sig);
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

PTSHIM_EXPORT int raise(int sig) {
  if (!tls_on_scheduler_thread) {  // a kernel thread ptshim does not run
    long r = arch::raw_syscall(SYS_tgkill, arch::raw_syscall(SYS_getpid),
                               arch::raw_syscall(SYS_gettid), sig);
    if (r == 0) return 0;
    errno = static_cast<int>(-r);
    return -1;
  }
  int err;
  {
    ShimEntry entry(__func__);
    err = send_to(current(), sig);
  }  // a signal the caller accepts is taken here, as the core is left
  if (err == 0) return 0;
  errno = err;
  return -1;
}

PTSHIM_EXPORT int gsignal(int sig) { return raise(sig); }
