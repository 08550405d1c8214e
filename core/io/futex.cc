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
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>

#include "core/io/io.h"

namespace ptshim {

namespace {
WaitQueue g_futex_waiters;
}  // namespace

bool futex_waiters_exist() { return g_futex_waiters.head != nullptr; }

bool futex_waiters_outside_may_wake() {
  for (Thread* t = g_futex_waiters.head; t != nullptr; t = t->next) {
    if (!t->futex_private) return true;
  }
  return false;
}

// Nothing can run and only futex waiters wait: the kernel thread sleeps in
// futex_waitv(2) on their words, so another process's FUTEX_WAKE (every
// shared object's wake that may have waiters elsewhere makes one) wakes it
// at once, instead of a look every millisecond. Shared keys (no
// FUTEX2_PRIVATE): they match other processes' wakes of shared memory.
// A signal that arrives before the wait begins changes g_deferred (its
// inbox marks it arrived), which is one of the words: the wait then does
// not begin, as ppoll's mask makes it for the other idle paths. The sleep is
// capped, so a word changed without any wake is still seen within
// kFutexIdleRecheckNs. False (nothing waited) when the words do not fit or
// the kernel refuses them.
bool futex_idle_wait(int64_t timeout_ns, const uint64_t* sleeping_mask) {
  constexpr int64_t kFutexIdleRecheckNs = 50 * 1000 * 1000;
  static futex_waitv words[FUTEX_WAITV_MAX];
  if (sleeping_mask == nullptr) return false;
  size_t n = 0;
  words[n++] =
      futex_waitv{g_deferred.first_four, reinterpret_cast<uintptr_t>(&g_deferred.first_four),
                  FUTEX_32 | FUTEX_PRIVATE_FLAG, 0};
  for (Thread* t = g_futex_waiters.head; t != nullptr; t = t->next) {
    if (n == FUTEX_WAITV_MAX) return false;
    words[n++] =
        futex_waitv{t->futex_value, reinterpret_cast<uintptr_t>(t->futex_word), FUTEX_32, 0};
  }
  if (timeout_ns < 0 || timeout_ns > kFutexIdleRecheckNs) timeout_ns = kFutexIdleRecheckNs;
  timespec until = timespec_from_ns(real_monotonic_now_ns() + static_cast<uint64_t>(timeout_ns));
  uint64_t blocked;
  arch::raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(sleeping_mask),
                    reinterpret_cast<long>(&blocked), sizeof blocked);
  long r = arch::raw_syscall(SYS_futex_waitv, reinterpret_cast<long>(words), static_cast<long>(n),
                             0, reinterpret_cast<long>(&until), CLOCK_MONOTONIC);
  arch::raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&blocked), 0,
                    sizeof blocked);
  return r >= 0 || r == -EAGAIN || r == -ETIMEDOUT || r == -EINTR;
}

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

WakeReason futex_wait_as(WaitKind kind, const uint32_t* word, uint32_t value, uint32_t bitset,
                         uint64_t deadline_ns, bool only_this_process) {
  Thread* self = current();
  self->futex_word = word;
  self->futex_value = value;
  self->futex_bitset = bitset;
  self->futex_private = only_this_process;
  WakeReason reason = WakeReason::kWoken;
  if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == value) {
    reason = block(&g_futex_waiters, kind, word, deadline_ns);
  }
  self->futex_word = nullptr;
  return reason;
}

WakeReason futex_wait(const uint32_t* word, uint32_t value, uint32_t bitset, uint64_t deadline_ns,
                      bool only_this_process) {
  return futex_wait_as(WaitKind::kFutex, word, value, bitset, deadline_ns, only_this_process);
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

void futex_rebase(const uint32_t* word, uint32_t from, uint32_t to) {
  for (Thread* t = g_futex_waiters.head; t != nullptr; t = t->next) {
    if (t->futex_word == word && t->futex_value == from) t->futex_value = to;
  }
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
