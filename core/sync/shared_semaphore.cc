// Process-shared semaphores (sem_init with pshared, and sem_open's, which
// glibc makes FUTEX_SHARED): the value word is glibc's, changed by atomic
// operations only; glibc_nwaiters counts the waiters of every process, so a
// post wakes only when someone waits. A woken waiter retries: a unit posted
// may go to whoever takes it first, in any process.
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <semaphore.h>

#include "core/io/io.h"
#include "core/sync/sync.h"

namespace ptshim {

namespace {
bool try_take(Semaphore* s) {
  uint32_t v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);
  while (v > 0) {
    if (__atomic_compare_exchange_n(&s->value, &v, v - 1, true, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED)) {
      return true;
    }
  }
  return false;
}
}  // namespace

int shared_semaphore_wait(Semaphore* s, uint64_t deadline_ns, bool try_only) {
  for (;;) {
    if (try_take(s)) return 0;
    if (try_only) return EAGAIN;
    __atomic_add_fetch(&s->glibc_nwaiters, 1, __ATOMIC_ACQ_REL);
    WakeReason reason = WakeReason::kWoken;
    if (__atomic_load_n(&s->value, __ATOMIC_ACQUIRE) == 0) {
      reason =
          futex_wait_as(WaitKind::kSemaphore, &s->value, 0, FUTEX_BITSET_MATCH_ANY, deadline_ns);
    }
    __atomic_sub_fetch(&s->glibc_nwaiters, 1, __ATOMIC_ACQ_REL);
    switch (reason) {
      case WakeReason::kWoken:
        continue;
      case WakeReason::kTimedOut:
        return try_take(s) ? 0 : ETIMEDOUT;
      case WakeReason::kSignaled:
        return EINTR;  // a handler ran: the caller knows whether to wait on
      case WakeReason::kInterrupted:
        return ECANCELED;
    }
  }
}

int shared_semaphore_post(Semaphore* s) {
  uint32_t v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);
  do {
    if (v >= static_cast<uint32_t>(SEM_VALUE_MAX)) return EOVERFLOW;
  } while (
      !__atomic_compare_exchange_n(&s->value, &v, v + 1, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
  if (__atomic_load_n(&s->glibc_nwaiters, __ATOMIC_ACQUIRE) != 0) shared_wake(&s->value, 1, true);
  return 0;
}

}  // namespace ptshim
