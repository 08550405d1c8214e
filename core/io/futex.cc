// Futex waiters. Two kinds share one queue, keyed by the word's address:
// - threads the timer found blocked in an untimed FUTEX_WAIT made by code
//   ptshim does not interpose (libgomp's raw system calls): parked until the
//   word no longer holds the value they waited on; then the kernel repeats
//   the wait, which returns at once;
// - threads waiting through libc's syscall(SYS_futex) (futex_call.cc): woken
//   by a FUTEX_WAKE of this process, their deadline, or a change of the word.
// A change of the word wakes both kinds: it is what every waker makes first,
// and it is the only sign of a wake made by another process or by a raw
// system call. For a syscall() waiter that wake may be spurious, which
// futex(2) allows ("a return value of 0 may be spurious").
#include <linux/futex.h>

#include "core/io/io.h"

namespace ptshim {

namespace {
WaitQueue g_futex_waiters;
}  // namespace

bool futex_waiters_exist() { return g_futex_waiters.head != nullptr; }

void futex_wake_changed() {
  Thread* t = g_futex_waiters.head;
  while (t != nullptr) {
    Thread* next = t->next;
    if (__atomic_load_n(t->futex_word, __ATOMIC_ACQUIRE) != t->futex_value) {
      wake(t, WakeReason::kWoken);
    }
    t = next;
  }
}

WakeReason futex_wait(const uint32_t* word, uint32_t value, uint32_t bitset, uint64_t deadline_ns) {
  Thread* self = current();
  self->futex_word = word;
  self->futex_value = value;
  self->futex_bitset = bitset;
  WakeReason reason = WakeReason::kWoken;
  if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == value) {
    reason = block(&g_futex_waiters, WaitKind::kFutex, word, deadline_ns);
  }
  self->futex_word = nullptr;
  return reason;
}

void futex_block(const uint32_t* word, uint32_t value) {
  futex_wait(word, value, FUTEX_BITSET_MATCH_ANY, 0);
}

int futex_wake(const uint32_t* word, int count, uint32_t bitset) {
  int woken = 0;
  Thread* t = g_futex_waiters.head;
  while (t != nullptr && woken < count) {
    Thread* next = t->next;
    if (t->futex_word == word && (t->futex_bitset & bitset) != 0) {
      wake(t, WakeReason::kWoken);
      ++woken;
    }
    t = next;
  }
  return woken;
}

int futex_requeue(const uint32_t* word, int count, const uint32_t* word2, int requeue_count) {
  int woken = futex_wake(word, count, FUTEX_BITSET_MATCH_ANY);
  int moved = 0;
  for (Thread* t = g_futex_waiters.head; t != nullptr && moved < requeue_count; t = t->next) {
    if (t->futex_word != word) continue;
    // Now waiting on word2: its value is the one to watch for a change.
    t->futex_word = word2;
    t->futex_value = __atomic_load_n(word2, __ATOMIC_ACQUIRE);
    t->wait_object = word2;
    ++moved;
  }
  return woken + moved;
}

}  // namespace ptshim
