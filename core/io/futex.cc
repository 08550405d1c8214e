// Futex words. A thread the timer found blocked in an untimed FUTEX_WAIT made
// by code ptshim does not interpose (libgomp, std::atomic::wait, C++20
// latches) is parked until the word no longer holds the value it waited on;
// then the kernel repeats the wait, which returns at once. No FUTEX_WAKE
// needs to be seen: the word's change is what a waker always makes first.
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

void futex_block(const uint32_t* word, uint32_t value) {
  Thread* self = current();
  self->futex_word = word;
  self->futex_value = value;
  if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == value) {
    block(&g_futex_waiters, WaitKind::kFutex, word, 0);
  }
  self->futex_word = nullptr;
}

}  // namespace ptshim
