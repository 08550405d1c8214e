// Process-shared barriers. Arrivals are counted since initialisation in one
// 64-bit word that never wraps, so each arrival knows its round's end without
// a lock: the arrival that reaches it is the serial one and wakes the rest;
// the others park on the word's low half until it gets there. Every arrival
// changes the word, so a parked waiter may look again early (and waits on).
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>

#include "core/io/io.h"
#include "core/sync/sync.h"

namespace ptshim {

namespace {
SharedBarrier* as_shared(Barrier* b) { return reinterpret_cast<SharedBarrier*>(b); }
uint32_t* low_half(uint64_t* word) { return reinterpret_cast<uint32_t*>(word); }  // little-endian
}  // namespace

bool shared_barrier_wait(Barrier* barrier) {
  SharedBarrier* b = as_shared(barrier);
  uint64_t count = b->count;
  if (count == 0) return true;  // not a barrier pthread_barrier_init made: nothing to wait for
  uint64_t mine = __atomic_fetch_add(&b->arrivals, 1, __ATOMIC_ACQ_REL);
  uint64_t round_end = (mine / count + 1) * count;
  if (mine + 1 == round_end) {
    shared_wake(low_half(&b->arrivals), INT_MAX, true);
    return true;
  }
  for (;;) {
    uint64_t now = __atomic_load_n(&b->arrivals, __ATOMIC_ACQUIRE);
    if (now >= round_end) return false;
    // A signal's handler, a cancellation request (not a cancellation point):
    // the barrier waits on.
    futex_wait_as(WaitKind::kBarrier, low_half(&b->arrivals), static_cast<uint32_t>(now),
                  FUTEX_BITSET_MATCH_ANY, 0);
  }
}

int shared_barrier_destroy(Barrier* barrier) {
  SharedBarrier* b = as_shared(barrier);
  if (b->count == 0) return 0;
  return __atomic_load_n(&b->arrivals, __ATOMIC_ACQUIRE) % b->count != 0 ? EBUSY : 0;
}

}  // namespace ptshim
