// sigpending: what the kernel holds for this kernel thread and the process,
// and what ptshim holds for the calling thread and for the process
// (core/signal).
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int sigpending(sigset_t* set) {
  ShimEntry entry(__func__);
  sigemptyset(set);  // the kernel writes its 64 bits only
  long r = arch::raw_syscall(SYS_rt_sigpending, reinterpret_cast<long>(set), NSIG / 8);
  if (r < 0) {
    errno = static_cast<int>(-r);
    return -1;
  }
  for (uint64_t held = signal_held_for(current()); held != 0; held &= held - 1) {
    sigaddset(set, __builtin_ctzll(held) + 1);
  }
  return 0;
}
