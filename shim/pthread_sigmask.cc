// pthread_sigmask, sigprocmask: each user thread has its own mask
// (core/signal_mask.cc); the kernel's follows the running thread's.
#include <errno.h>
#include <signal.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  ShimEntry entry(__func__);
  return signal_mask_change(current(), how, set, old);
}

// In a process of one thread, sigprocmask is pthread_sigmask (POSIX leaves
// it unspecified with more; glibc makes it the same).
PTSHIM_EXPORT int sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  ShimEntry entry(__func__);
  if (int err = signal_mask_change(current(), how, set, old)) {
    errno = err;
    return -1;
  }
  return 0;
}
