// Signals directed at one user thread (pthread_kill). The kernel sees one
// thread, so such a signal waits in the target's pending set and is raised
// at this kernel thread when the target runs outside the core with it
// unblocked: its handler then runs on the target's stack, as natively.
#include "core/signal/signal.h"

namespace ptshim {

void signal_request(Thread* t, int sig) {
  t->pending_signals |= signal_bit(sig);
  if (t == current()) g_deferred.signals = 1;  // raised as the shim call ends
}

void deliver_pending_signals() {
  Thread* self = current();
  g_deferred.signals = 0;
  while (uint64_t deliverable = signal_deliverable(self, self->pending_signals)) {
    int sig = __builtin_ctzll(deliverable) + 1;
    self->pending_signals &= ~signal_bit(sig);
    raise_on_this_thread(sig);
  }
}

}  // namespace ptshim
