// pthread_kill: the signal is raised on the one kernel thread when the
// target user thread next runs outside the shim, so its handler runs on that
// thread (with that thread's signal mask). A thread blocked in ptshim is not
// interrupted by it. Signal 0 checks that the thread exists.
#include <errno.h>
#include <signal.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_kill(pthread_t thread, int sig) {
  ShimEntry entry(__func__);
  Thread* t = to_thread(thread);
  if (!thread_is_valid(t) || t->state == ThreadState::kExited) return ESRCH;
  if (sig < 0 || sig >= NSIG) return EINVAL;
  if (sig != 0) signal_request(t, sig);
  return 0;
}
