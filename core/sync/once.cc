// pthread_once. The control word (PTHREAD_ONCE_INIT == 0) moves from
// kNotRun to kRunning to kDone; callers that find it kRunning wait, keyed by
// the control's address, until the runner finishes or gives up. A runner
// that gives up (its init routine was cancelled, or called pthread_exit)
// puts the word back to kNotRun and wakes the waiters, as glibc's cleanup
// handler does: the next caller to find it so runs the routine itself.
#include "core/sync/sync.h"

namespace ptshim {

namespace {
enum OnceState : int { kNotRun = 0, kRunning = 1, kDone = 2 };
}  // namespace

bool once_claim(int* control) {
  for (;;) {
    int state = __atomic_load_n(control, __ATOMIC_ACQUIRE);
    if (state == kDone) {
      scheduling_point(SchedPoint::kUncontendedLock);  // a wait that did not wait
      return false;
    }
    if (state == kNotRun) break;
    if (g_reporting) return false;  // the runner is suspended; a report must not wait
    block_keyed(WaitKind::kOnce, control, 0);
  }
  __atomic_store_n(control, kRunning, __ATOMIC_RELAXED);
  return true;
}

void once_finish(int* control) {
  __atomic_store_n(control, kDone, __ATOMIC_RELEASE);
  wake_keyed(control);
  scheduling_point(SchedPoint::kWake);
}

void once_abandon(int* control) {
  __atomic_store_n(control, kNotRun, __ATOMIC_RELEASE);
  wake_keyed(control);
}

}  // namespace ptshim
