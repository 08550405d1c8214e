// sigsuspend and pause wait for a signal handler to run. In the kernel they
// would block every thread, so the caller waits in the scheduler instead,
// with the suspend mask as its own for the wait: the signals it lets
// through are then accepted by this thread, and one that arrives (or was
// held for the process, as a program SIGALRM nobody accepted) is routed to
// it by core/signal, which wakes it; its handler runs inside the wait, with
// the suspend mask, as natively. Then the thread's own mask is restored and
// the call returns -1 with EINTR. The pattern this serves: signals blocked
// in every thread and taken by one sigsuspend (lbzip2's, for one), and the
// classic alarm sleep.
#include <errno.h>
#include <signal.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int sigsuspend(const sigset_t* mask) {
  {
    ShimEntry entry(__func__);
    CancellationPoint cancellation_point;
    Thread* self = current();
    uint32_t handled = self->handlers_run;
    // Letting signals in may make the kernel deliver held ones at once: they
    // come to the inbox, routed next.
    uint64_t saved = signal_mask_swap(self, signal_mask_from_set(mask));
    signal_route_arrivals();
    while (self->handlers_run == handled) {
      if (self->cancel_pending && !self->cancel_disabled) break;
      if (signal_deliverable(self, self->pending_signals) != 0) {
        signal_run_handlers_in_wait();  // held for it, or routed to it just now
        continue;
      }
      self->in_sigsuspend = true;                    // (cleared when a handler runs)
      block(nullptr, WaitKind::kSleep, nullptr, 0);  // its handler runs in here
      self->in_sigsuspend = false;
    }
    signal_mask_swap(self, saved);
  }
  errno = EINTR;
  return -1;
}

PTSHIM_EXPORT int pause() {
  sigset_t mask;
  {
    ShimEntry entry(__func__);
    signal_mask_change(current(), SIG_BLOCK, nullptr, &mask);
  }
  return sigsuspend(&mask);
}
