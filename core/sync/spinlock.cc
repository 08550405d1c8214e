// Spinlocks. On one kernel thread spinning only burns the holder's time, so
// a waiter blocks, keyed by the lock's address, until the holder unlocks.
// The word keeps glibc's meaning: 0 unlocked, 1 locked.
#include "core/sync/sync.h"

namespace ptshim {

void spin_lock(int* lock) {
  if (*lock == 0) {
    *lock = 1;
    scheduling_point(SchedPoint::kUncontendedLock);
    return;
  }
  while (*lock != 0) {
    if (g_reporting) break;
    block_keyed(WaitKind::kSpin, lock, 0);
  }
  *lock = 1;
}

void spin_unlock(int* lock) {
  *lock = 0;
  if (!wake_keyed(lock)) scheduling_point(SchedPoint::kUncontendedUnlock);
}

}  // namespace ptshim
