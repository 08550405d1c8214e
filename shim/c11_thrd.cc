#include <stdint.h>

#include "shim/c11.h"

using namespace ptshim;

PTSHIM_EXPORT int thrd_create(thrd_t* thread, thrd_start_t start, void* arg) {
  ShimEntry entry(__func__);
  ThreadAttr attr;
  attr_set_defaults(&attr);
  Thread* t;
  if (int err = thread_create(attr, nullptr, arg,
                              reinterpret_cast<uintptr_t>(__builtin_return_address(0)), &t)) {
    return c11_result(err);
  }
  t->c11_start_routine = start;  // before it first runs: creation does not switch
  *thread = to_thrd(t);
  return thrd_success;
}

PTSHIM_EXPORT thrd_t thrd_current() {
  ShimEntry entry(__func__);
  return to_thrd(current());
}

PTSHIM_EXPORT int thrd_equal(thrd_t a, thrd_t b) { return a == b; }

PTSHIM_EXPORT int thrd_detach(thrd_t thread) {
  ShimEntry entry(__func__);
  return c11_result(thread_detach(to_thread(thread)));
}

PTSHIM_EXPORT int thrd_join(thrd_t thread, int* result) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  void* value;
  if (int err = thread_join(to_thread(thread), &value)) return c11_result(err);
  if (result != nullptr) *result = static_cast<int>(reinterpret_cast<intptr_t>(value));
  return thrd_success;
}

PTSHIM_EXPORT __attribute__((noreturn)) void thrd_exit(int result) {
  { ShimEntry entry(__func__); }  // the unwind runs program code: outside the core
  unwind_and_exit(reinterpret_cast<void*>(static_cast<intptr_t>(result)),
                  reinterpret_cast<uintptr_t>(__builtin_return_address(0)));
}

PTSHIM_EXPORT void thrd_yield() {
  ShimEntry entry(__func__);
  yield();
}

// 0 when the whole duration was slept, -1 when a signal's handler cut it
// short (the time left in `remaining`, if given), -2 for a malformed
// duration: as glibc's, over nanosleep.
PTSHIM_EXPORT int thrd_sleep(const timespec* duration, timespec* remaining) {
  ShimEntry entry(__func__);
  uint64_t deadline;
  if (deadline_from_relative(duration, &deadline) != 0) return -2;
  if (sleep_until(deadline) != WakeReason::kSignaled) return 0;
  if (remaining != nullptr) {
    uint64_t now = monotonic_now_ns();
    *remaining = timespec_from_ns(deadline > now ? deadline - now : 0);
  }
  return -1;
}
