// Unnamed and named semaphores (sem_open's mapping holds a sem_t that
// glibc initialises; the layout in core/sync/sync.h reads it as is). Errors are
// reported through errno, as POSIX asks of these.
#include <errno.h>
#include <limits.h>
#include <semaphore.h>
#include <string.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
int result(int err) {
  if (err == 0) return 0;
  if (err == ECANCELED) err = EINTR;  // woken for a cancellation request since disabled
  errno = err;
  return -1;
}
}  // namespace

// As glibc: `private` is FUTEX_SHARED for a process-shared semaphore, which
// is also what sem_open's hold (core/sync/sync.h).
namespace {
[[gnu::noinline]] void check_reinit(sem_t* sem, uintptr_t site) {
  ShimEntry entry("sem_init");
  note_call(entry, "sem_init", site);
  if (semaphore_is_live(to_semaphore(sem))) misuse_reinit_live(sem, LockKind::kSemaphore);
}
}  // namespace

PTSHIM_EXPORT int sem_init(sem_t* sem, int pshared, unsigned value) {
  if (value > static_cast<unsigned>(SEM_VALUE_MAX)) return result(EINVAL);
  if (__builtin_expect(to_semaphore(sem)->waiters.head != nullptr, 0)) {
    check_reinit(sem, PTSHIM_CALLER());
  }
  memset(sem, 0, sizeof *sem);
  to_semaphore(sem)->value = value;
  if (pshared != 0) to_semaphore(sem)->glibc_private = kSemaphoreShared;
  return 0;
}

PTSHIM_EXPORT int sem_destroy(sem_t* sem) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  Semaphore* s = to_semaphore(sem);
  // A shared one's waiter count may hold processes killed while they waited:
  // never EBUSY, as glibc.
  if (semaphore_is_shared(s)) return 0;
  return result(s->waiters.head != nullptr ? EBUSY : 0);
}

// A handler that runs while it waits: EINTR, unless the handler has
// SA_RESTART (glibc's untimed futex wait is then restarted by the kernel).
// The timed waits always fail with EINTR, as the kernel never restarts a
// timed futex wait.
PTSHIM_EXPORT int sem_wait(sem_t* sem) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  CancellationPoint cancellation_point;
  int err;
  while ((err = semaphore_wait(to_semaphore(sem), 0, false)) == EINTR && signal_wait_restarts()) {
  }
  return result(err);
}

PTSHIM_EXPORT int sem_trywait(sem_t* sem) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return result(semaphore_wait(to_semaphore(sem), 0, true));
}

PTSHIM_EXPORT int sem_clockwait(sem_t* sem, clockid_t clock, const timespec* abstime) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  CancellationPoint cancellation_point;
  return result(acquire_until(clock, abstime, EAGAIN, [sem](uint64_t deadline, bool try_only) {
    return semaphore_wait(to_semaphore(sem), deadline, try_only);
  }));
}

PTSHIM_EXPORT int sem_timedwait(sem_t* sem, const timespec* abstime) {
  return sem_clockwait(sem, CLOCK_REALTIME, abstime);
}

PTSHIM_EXPORT int sem_post(sem_t* sem) {
  ShimEntry entry(__func__);
  return result(semaphore_post(to_semaphore(sem)));
}

PTSHIM_EXPORT int sem_getvalue(sem_t* sem, int* value) {
  *value = static_cast<int>(__atomic_load_n(&to_semaphore(sem)->value, __ATOMIC_ACQUIRE));
  return 0;
}
