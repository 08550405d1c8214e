// pthread_sigmask, sigprocmask: each user thread has its own mask
// (core/signal/mask.cc); the kernel's follows the running thread's.
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
// A crash report on a kernel thread ptshim does not run: libunwind, which
// blocks signals around its caches, gets the kernel's own call there.
bool on_foreign_thread_while_reporting() { return !tls_on_scheduler_thread && g_reporting; }

int kernel_sigmask(int how, const sigset_t* set, sigset_t* old) {
  return static_cast<int>(-arch::raw_syscall(SYS_rt_sigprocmask, how, reinterpret_cast<long>(set),
                                             reinterpret_cast<long>(old), NSIG / 8));
}
}  // namespace

PTSHIM_EXPORT int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  if (on_foreign_thread_while_reporting()) return kernel_sigmask(how, set, old);
  ShimEntry entry(__func__);
  return signal_mask_change(current(), how, set, old);
}

// In a process of one thread, sigprocmask is pthread_sigmask (POSIX leaves
// it unspecified with more; glibc makes it the same).
PTSHIM_EXPORT int sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  int err;
  if (on_foreign_thread_while_reporting()) {
    err = kernel_sigmask(how, set, old);
  } else {
    ShimEntry entry(__func__);
    err = signal_mask_change(current(), how, set, old);
  }
  if (err != 0) {
    errno = err;
    return -1;
  }
  return 0;
}
