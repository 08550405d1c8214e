// The internal header of shim/: how an exported C function enters the core,
// and how glibc's public types map onto the core's representation.
#pragma once

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>

#include "core/runtime.h"

#define PTSHIM_EXPORT extern "C" __attribute__((visibility("default")))

namespace ptshim {

// Brackets every exported function: checks that the caller runs on the
// scheduler's kernel thread (initializing on the very first call), and marks
// the core busy so the preemption handler keeps out until the call ends.
//
// A call made from inside the core (by a library the shim itself uses, such
// as libunwind during a report, or by a malloc the program replaced) finds
// the core busy already: it leaves it busy and takes no preemption, so such
// re-entry can never switch threads in the middle of a core operation.
class ShimEntry {
 public:
  // One load decides the usual case: the scheduler's thread, no schedule
  // being recorded (tls_shim_entry_plain, sched.h).
  [[gnu::always_inline]] explicit ShimEntry(const char* function) {
    nested_ = g_in_core;
    if (__builtin_expect(!tls_shim_entry_plain, 0)) {
      if (!tls_on_scheduler_thread) ensure_initialized_or_die(function);
      // Where a switch of a recorded run happened, for reports. Inlined
      // into the exported function (or a helper it tail-calls): the return
      // address is the program's call.
      if (g_recording && !nested_) {
        g_shim_function = function;
        g_shim_site = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
      }
    }
    enter_core();
  }
  ~ShimEntry() {
    if (!nested_) leave_core();
  }
  ShimEntry(const ShimEntry&) = delete;
  ShimEntry& operator=(const ShimEntry&) = delete;
  // Called from inside the core (a library ptshim uses, a report): such a
  // call must not act on a cancellation request.
  bool nested() const { return nested_ != 0; }

 private:
  int nested_;
};

// The program's call of a sync function or join, for lock sites and misuse
// reports (Thread::call_site, call_function): the return address, so taken
// in the exported function itself (PTSHIM_CALLER) and handed down. A call
// from inside the core (a report's libunwind) leaves the running thread's
// call as it was.
#define PTSHIM_CALLER() reinterpret_cast<uintptr_t>(__builtin_return_address(0))
inline void note_call(const ShimEntry& entry, const char* function, uintptr_t site) {
  if (entry.nested()) return;
  Thread* t = current();
  t->call_site = site;
  t->call_function = function;
}

// Marks a cancellation point, declared after the function's ShimEntry: a
// pending cancellation request is acted on at entry and at exit (the thread
// then unwinds and never returns), and one that arrives while the thread is
// blocked here wakes it.
class CancellationPoint {
 public:
  CancellationPoint() {
    check();
    current()->at_cancel_point = true;
  }
  ~CancellationPoint() {
    current()->at_cancel_point = false;
    check();
  }
  CancellationPoint(const CancellationPoint&) = delete;
  CancellationPoint& operator=(const CancellationPoint&) = delete;

 private:
  // Not while a report is written: a library the report uses (libunwind)
  // may reach a cancellation point from inside the core.
  static void check() {
    Thread* self = current();
    if (__builtin_expect(self->cancel_pending, 0) && !self->cancel_disabled && !self->unwinding &&
        !g_reporting) {
      leave_core();
      act_on_cancellation();
    }
  }
};

// A timed acquisition: `acquire(deadline_ns, try_only)` returns 0 or an error
// number. The deadline is looked at only if the object is busy, as glibc
// does, so a free mutex is taken even with a malformed timeout.
template <typename Acquire>
int acquire_until(clockid_t clock, const timespec* abstime, int busy, Acquire acquire) {
  if (!clock_is_waitable(clock)) return EINVAL;
  int err = acquire(0, true);
  if (err != busy) return err;
  uint64_t deadline;
  if (int bad = deadline_from_abstime(clock, abstime, &deadline)) return bad;
  return acquire(deadline, false);
}

// pthread_once and call_once: the routine runs outside the core; a runner
// that unwinds out of it (cancelled, pthread_exit, a C++ exception: how
// std::call_once reports a failed call) leaves the control as never run and
// wakes its waiters, as glibc's cleanup handler does.
inline void once_call(int* control, void (*init)()) {
  if (!once_claim(control)) return;
  call_unwind_guarded([](void* routine) { reinterpret_cast<void (*)()>(routine)(); },
                      reinterpret_cast<void*>(init),
                      [](void* c) { once_abandon(static_cast<int*>(c)); }, control);
  once_finish(control);
}

// pthread_*_init under PTSHIM_LOCK_ORDER: the lock's class is its caller's
// site (core/diag/lock_order.cc). Out of line: init has no ShimEntry of its own.
[[gnu::noinline]] inline void lock_order_init_from_shim(const void* lock, LockKind kind) {
  ShimEntry entry("lock_order_init");
  if (!entry.nested()) lock_order_init(lock, kind);
}

// glibc's types as the core's: each core type has the glibc type's size
// (core/sync/sync.h), and these are the only casts between them.
inline Thread* to_thread(pthread_t t) { return reinterpret_cast<Thread*>(t); }
inline pthread_t to_pthread(Thread* t) { return reinterpret_cast<pthread_t>(t); }
inline Mutex* to_mutex(pthread_mutex_t* m) { return reinterpret_cast<Mutex*>(m); }
inline Cond* to_cond(pthread_cond_t* c) { return reinterpret_cast<Cond*>(c); }
inline RwLock* to_rwlock(pthread_rwlock_t* l) { return reinterpret_cast<RwLock*>(l); }
inline Barrier* to_barrier(pthread_barrier_t* b) { return reinterpret_cast<Barrier*>(b); }
inline Semaphore* to_semaphore(sem_t* s) { return reinterpret_cast<Semaphore*>(s); }
static_assert(sizeof(pthread_mutex_t) == sizeof(Mutex));
static_assert(sizeof(pthread_cond_t) == sizeof(Cond));
static_assert(sizeof(pthread_rwlock_t) == sizeof(RwLock));
static_assert(sizeof(pthread_barrier_t) == sizeof(Barrier));
static_assert(sizeof(sem_t) == sizeof(Semaphore));
// The attribute objects whose first int holds glibc's bits (mutexattr,
// condattr, rwlockattr, barrierattr).
template <typename GlibcAttr>
int& attr_bits(GlibcAttr* attr) {
  return *reinterpret_cast<int*>(attr);
}
template <typename GlibcAttr>
int attr_bits(const GlibcAttr* attr) {
  return *reinterpret_cast<const int*>(attr);
}

static_assert(sizeof(ThreadAttr) == sizeof(pthread_attr_t));
inline ThreadAttr* to_attr(pthread_attr_t* a) { return reinterpret_cast<ThreadAttr*>(a); }
inline const ThreadAttr* to_attr(const pthread_attr_t* a) {
  return reinterpret_cast<const ThreadAttr*>(a);
}

// pthread_mutexattr_t: the type in the low bits, then flags, then the
// protocol and priority ceiling (pthread_mutex_init turns them into glibc's
// __kind bits: core/sync/mutex_protocol.cc).
constexpr int kMutexAttrTypeMask = 0xf;
constexpr int kMutexAttrPshared = 0x10;
constexpr int kMutexAttrRobust = 0x20;
constexpr int kMutexAttrProtocolShift = 6;  // 2 bits
constexpr int kMutexAttrProtocolMask = 0x3 << kMutexAttrProtocolShift;
constexpr int kMutexAttrCeilingShift = 8;  // 8 bits
// pthread_condattr_t: pshared in bit 0, the clock above it (glibc's layout).
constexpr int kCondAttrPshared = 1;

// sigaction as the program sees it (shim/sigaction.cc), for the shim's own
// callers (system), which must not come back through the exported symbol.
int program_sigaction(int sig, const struct sigaction* act, struct sigaction* old);

}  // namespace ptshim
