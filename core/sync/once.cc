// pthread_once. The control word (PTHREAD_ONCE_INIT == 0) moves from
// kNotRun to kRunning to kDone; callers that find it kRunning wait, keyed by
// the control's address, until the runner finishes.
#include "core/sync/sync.h"

namespace ptshim {

namespace {
enum OnceState : int { kNotRun = 0, kRunning = 1, kDone = 2 };
}  // namespace

int once_run(int* control, void (*init)()) {
  for (;;) {
    int state = __atomic_load_n(control, __ATOMIC_ACQUIRE);
    if (state == kDone) return 0;
    if (state == kNotRun) break;
    if (g_reporting) return 0;  // the runner is suspended; a report must not wait
    block_keyed(WaitKind::kOnce, control, 0);
  }
  __atomic_store_n(control, kRunning, __ATOMIC_RELAXED);
  leave_core();  // init is program code
  init();
  enter_core();
  __atomic_store_n(control, kDone, __ATOMIC_RELEASE);
  wake_keyed(control);
  return 0;
}

}  // namespace ptshim
