// timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete.
// A SIGEV_THREAD timer is ptshim's own (core/thread/timer.cc): glibc's would
// start a kernel thread. Every other kind (SIGEV_SIGNAL, SIGEV_NONE,
// SIGEV_THREAD_ID) is the kernel's timer, made as glibc 2.36 makes it, with
// its id as the timer_t; ptshim's handles have the top bit set, which no
// kernel id has, so one program can mix both kinds.
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
// glibc's kernel_timer_t: the id is the timer_t's low int.
long kernel_id(timer_t timer) { return static_cast<int>(reinterpret_cast<uintptr_t>(timer)); }
uintptr_t handle_of(timer_t timer) { return reinterpret_cast<uintptr_t>(timer); }
bool is_ours(timer_t timer) { return thread_timer_handle_is_ours(handle_of(timer)); }

// glibc passes its CPU-time clocks to the kernel as these: the calling
// process's and thread's CPUCLOCK_SCHED clocks (MAKE_PROCESS_CPUCLOCK (0, 2)
// and MAKE_THREAD_CPUCLOCK (0, 2), that is (~0 << 3) | 2 and | 6).
clockid_t kernel_clock(clockid_t clock) {
  if (clock == CLOCK_PROCESS_CPUTIME_ID) return -6;
  if (clock == CLOCK_THREAD_CPUTIME_ID) return -2;
  return clock;
}

int fail(int err) {
  errno = err;
  return -1;
}

int kernel_result(long r) { return r < 0 ? fail(static_cast<int>(-r)) : static_cast<int>(r); }

bool valid(const timespec& ts) { return ts.tv_sec >= 0 && timespec_is_valid(&ts); }

itimerspec to_itimerspec(const TimerTimes& t) {
  return itimerspec{timespec_from_ns(t.interval_ns), timespec_from_ns(t.value_ns)};
}
}  // namespace

PTSHIM_EXPORT int timer_create(clockid_t clock, struct sigevent* evp, timer_t* timerid) {
  if (clock < 0) {
    // A user thread's CPU clock: the kernel has only the kernel thread's,
    // which counts every user thread (see README).
    ShimEntry entry(__func__);
    clock = thread_cpu_clock_for_kernel(clock);
  }
  if (evp != nullptr && evp->sigev_notify == SIGEV_THREAD) {
    ShimEntry entry(__func__);
    ThreadAttr attr;
    if (evp->sigev_notify_attributes != nullptr) {
      attr = *to_attr(evp->sigev_notify_attributes);
    } else {
      attr_set_defaults(&attr);
    }
    uintptr_t handle;
    if (int err = thread_timer_create(clock, evp->sigev_notify_function, evp->sigev_value, attr,
                                      reinterpret_cast<uintptr_t>(__builtin_return_address(0)),
                                      &handle)) {
      return fail(err);
    }
    *timerid = reinterpret_cast<timer_t>(handle);
    return 0;
  }
  sigevent plain;
  if (evp == nullptr) {  // as glibc: SIGALRM, with a null value
    memset(&plain, 0, sizeof plain);
    plain.sigev_notify = SIGEV_SIGNAL;
    plain.sigev_signo = SIGALRM;
    plain.sigev_value.sival_ptr = nullptr;
    evp = &plain;
  }
  int id;
  long r = arch::raw_syscall(SYS_timer_create, kernel_clock(clock), reinterpret_cast<long>(evp),
                             reinterpret_cast<long>(&id));
  if (r < 0) return fail(static_cast<int>(-r));
  {
    ShimEntry entry(__func__);
    program_timer_created(id, clock, evp);  // an armed one can end a deadlock (core/signal)
  }
  *timerid = reinterpret_cast<timer_t>(static_cast<intptr_t>(id));
  return 0;
}

PTSHIM_EXPORT int timer_settime(timer_t timer, int flags, const struct itimerspec* value,
                                struct itimerspec* old) {
  if (!is_ours(timer)) {
    return kernel_result(arch::raw_syscall(SYS_timer_settime, kernel_id(timer), flags,
                                           reinterpret_cast<long>(value),
                                           reinterpret_cast<long>(old)));
  }
  ShimEntry entry(__func__);
  // The kernel's checks: both times valid, even to disarm.
  if (value == nullptr || !valid(value->it_value) || !valid(value->it_interval)) {
    return fail(EINVAL);
  }
  TimerTimes previous;
  if (int err = thread_timer_set(handle_of(timer), (flags & TIMER_ABSTIME) != 0, value->it_value,
                                 value->it_interval, old != nullptr ? &previous : nullptr)) {
    return fail(err);
  }
  if (old != nullptr) *old = to_itimerspec(previous);
  return 0;
}

PTSHIM_EXPORT int timer_gettime(timer_t timer, struct itimerspec* value) {
  if (!is_ours(timer)) {
    return kernel_result(
        arch::raw_syscall(SYS_timer_gettime, kernel_id(timer), reinterpret_cast<long>(value)));
  }
  ShimEntry entry(__func__);
  TimerTimes times;
  if (int err = thread_timer_get(handle_of(timer), &times)) return fail(err);
  *value = to_itimerspec(times);
  return 0;
}

PTSHIM_EXPORT int timer_getoverrun(timer_t timer) {
  if (!is_ours(timer)) {
    return kernel_result(arch::raw_syscall(SYS_timer_getoverrun, kernel_id(timer)));
  }
  ShimEntry entry(__func__);
  int overrun;
  if (int err = thread_timer_overrun(handle_of(timer), &overrun)) return fail(err);
  return overrun;
}

PTSHIM_EXPORT int timer_delete(timer_t timer) {
  if (!is_ours(timer)) {
    long r = arch::raw_syscall(SYS_timer_delete, kernel_id(timer));
    if (r == 0) {
      ShimEntry entry(__func__);
      program_timer_deleted(static_cast<int>(kernel_id(timer)));
    }
    return kernel_result(r);
  }
  ShimEntry entry(__func__);
  if (int err = thread_timer_delete(handle_of(timer))) return fail(err);
  return 0;
}
