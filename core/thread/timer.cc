// POSIX timers that notify by starting a thread (SIGEV_THREAD).
//
// glibc makes each one a kernel timer that sends SIGTIMER to a helper thread
// of its own, which waits in sigwaitinfo and starts a detached thread per
// expiration. Under ptshim that helper would be a kernel thread, and its
// blocking wait would block every user thread. So these timers are ptshim's
// own: no kernel timer and no signal, only deadlines on ptshim's deadline heap.
//
// THE NOTIFIER. One detached thread of ptshim's (thread_create_own, named
// "ptshim timer"), made with the first such timer, as glibc makes its helper,
// blocks (WaitKind::kTimer) until the earliest expiration among the armed
// timers, or forever while none is armed. Woken by that deadline it starts one
// thread per due timer and re-arms the periodic ones. It has every signal
// blocked, as glibc's helper has, and the threads it starts inherit that mask
// as glibc's do.
//
// INVARIANTS.
// - Everything here runs in the core section, on behalf of a program thread
//   (the timer_* calls) or of the notifier; the SIGALRM handler never touches
//   a timer (it only wakes the notifier when its deadline passes).
// - The notifier, while blocked in its own wait, has the earliest expiration
//   of the armed list as its deadline (none when the list is empty): every
//   change to the list moves it (notifier_update, reschedule_blocked), so the
//   notifier is never woken just to look, and a program whose threads wait
//   for a notification is never taken for deadlocked while a timer is armed.
// - The notifier is idle (thread_set_idle: not active, so it keeps neither
//   the process alive nor a lone thread from blocking in the kernel) only
//   while it is blocked in its own wait with nothing armed, and always when
//   it waits there with nothing armed: it goes idle before it waits, or when
//   a program thread empties the armed list while it waits; arming a timer
//   makes it active at once. Never while it is at work, so a notification it
//   is about to start is not lost to the process ending.
// - A timer's state is updated before its notification thread is created:
//   creating one may leave the core (tls_prepare), and a thread that runs
//   meanwhile may re-arm or delete the timer; the notifier holds no pointer
//   to it across that.
//
// What a notification gets: the sigev_notify_function called with the
// sigev_value, on a new detached thread made with a copy of
// sigev_notify_attributes as timer_create saw them (or the defaults), as
// glibc does. Overruns: the expirations that came due before the notifier
// got to the previous one are folded into one notification, as the kernel
// folds a signal still pending; timer_getoverrun reports how many were
// folded into the last one (capped at DELAYTIMER_MAX), and timer_settime
// resets it.
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/thread/thread.h"

namespace ptshim {

namespace {

struct Timer {
  uint32_t index;       // in g_timers
  uint32_t generation;  // bumped by every delete: a stale handle no longer matches
  bool in_use;
  bool armed;
  clockid_t clock;       // CLOCK_REALTIME, _MONOTONIC, _BOOTTIME or _TAI
  uint64_t expiry_ns;    // the next expiration (CLOCK_MONOTONIC), while armed
  uint64_t interval_ns;  // 0: one-shot
  int overrun;           // expirations folded into the last notification
  void (*function)(union sigval);
  union sigval value;
  ThreadAttr attr;  // detached
  uint64_t creator_number;
  uintptr_t created_at;
  Timer* armed_next;  // the armed list, unordered: programs have few timers
  Timer* armed_prev;
  uint32_t free_next;  // free slots: index + 1; 0 ends the list
};

// What a notification thread needs, copied out of its timer.
struct Notification {
  void (*function)(union sigval);
  union sigval value;
  ThreadAttr attr;
  uint64_t creator_number;
  uintptr_t created_at;
};

constexpr uintptr_t kHandleTag = uintptr_t{1} << 63;
constexpr uint32_t kGenerationMask = 0x7fffffff;  // bits 32-62 of a handle
constexpr uint32_t kMaxTimers = uint32_t{1} << 24;
constexpr size_t kNotifierStack = 256 * 1024;  // it may reach malloc (tls_prepare)

Timer** g_timers;  // slots [0, g_used), each allocated once and reused
uint32_t g_used;
size_t g_capacity;
uint32_t g_free;  // index + 1 of the first free slot
Timer* g_armed;
Thread* g_notifier;  // null until the first SIGEV_THREAD timer

uint64_t saturating_add(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

uint64_t saturating_ns(const timespec& ts) {
  auto sec = static_cast<uint64_t>(ts.tv_sec);
  if (sec > UINT64_MAX / kNsPerSec) return UINT64_MAX;
  return saturating_add(sec * kNsPerSec, static_cast<uint64_t>(ts.tv_nsec));
}

uintptr_t handle_of(const Timer* t) {
  return kHandleTag | uintptr_t{t->generation & kGenerationMask} << 32 | t->index;
}

Timer* find(uintptr_t handle) {
  if (!thread_timer_handle_is_ours(handle)) return nullptr;
  auto index = static_cast<uint32_t>(handle);
  if (index >= g_used) return nullptr;
  Timer* t = g_timers[index];
  if (!t->in_use || (t->generation & kGenerationMask) != ((handle >> 32) & kGenerationMask)) {
    return nullptr;
  }
  return t;
}

void arm(Timer* t) {
  t->armed = true;
  t->armed_prev = nullptr;
  t->armed_next = g_armed;
  if (g_armed != nullptr) g_armed->armed_prev = t;
  g_armed = t;
}

void disarm(Timer* t) {
  if (!t->armed) return;
  t->armed = false;
  if (t->armed_prev != nullptr) {
    t->armed_prev->armed_next = t->armed_next;
  } else {
    g_armed = t->armed_next;
  }
  if (t->armed_next != nullptr) t->armed_next->armed_prev = t->armed_prev;
  t->interval_ns = 0;  // a disarmed timer reads as all zero, as the kernel's does
}

Timer* earliest_armed() {
  Timer* earliest = g_armed;
  for (Timer* t = g_armed; t != nullptr; t = t->armed_next) {
    if (t->expiry_ns < earliest->expiry_ns) earliest = t;
  }
  return earliest;
}

bool notifier_waits(const Thread* n) {
  // Blocked in its own wait, not in one of malloc's locks under tls_prepare.
  return n->state == ThreadState::kBlocked && n->wait_kind == WaitKind::kTimer;
}

// The armed list changed: the notifier's deadline follows (see INVARIANTS).
void notifier_update() {
  Thread* n = g_notifier;
  if (n == nullptr) return;
  if (g_armed != nullptr) thread_set_idle(n, false);
  if (!notifier_waits(n)) return;  // it looks at the list again before it waits
  if (g_armed == nullptr) {
    thread_set_idle(n, true);
    reschedule_blocked(n, 0);
  } else {
    reschedule_blocked(n, earliest_armed()->expiry_ns);
  }
}

// Takes a due timer's expiration: re-armed by whole periods past `now`, or
// disarmed.
Notification expire(Timer* t, uint64_t now) {
  Notification n{t->function, t->value, t->attr, t->creator_number, t->created_at};
  if (t->interval_ns == 0) {
    t->overrun = 0;
    disarm(t);
    return n;
  }
  uint64_t missed = (now - t->expiry_ns) / t->interval_ns;
  t->overrun = missed > static_cast<uint64_t>(INT_MAX) ? INT_MAX : static_cast<int>(missed);
  uint64_t step =
      missed + 1 > UINT64_MAX / t->interval_ns ? UINT64_MAX : (missed + 1) * t->interval_ns;
  t->expiry_ns = saturating_add(t->expiry_ns, step);
  return n;
}

void start_notification(const Notification& n) {
  Thread* t;
  // As glibc: a notification whose thread cannot be made is lost.
  if (thread_create(n.attr, nullptr, nullptr, n.created_at, &t) != 0) return;
  // Before it first runs (creation does not switch). Reports name it after
  // the function, created where the program created the timer.
  t->notify_routine = n.function;
  memcpy(&t->start_arg, &n.value, sizeof n.value);
  t->creator_number = n.creator_number;
}

void* notifier_main(void*) {
  enter_core();
  Thread* self = current();
  for (;;) {
    Timer* due = earliest_armed();
    uint64_t now = monotonic_now_ns();
    if (due == nullptr || due->expiry_ns > now) {
      thread_set_idle(self, due == nullptr);  // ends the process if nothing else is left
      block(nullptr, WaitKind::kTimer, nullptr, due != nullptr ? due->expiry_ns : 0);
      continue;
    }
    start_notification(expire(due, now));
  }
}

// Whether the kernel would make a timer on `clock`: 0 or its error.
int kernel_answer_for_clock(clockid_t clock) {
  sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_NONE;
  int id;
  long r = arch::raw_syscall(SYS_timer_create, clock, reinterpret_cast<long>(&sev),
                             reinterpret_cast<long>(&id));
  if (r < 0) return static_cast<int>(-r);
  arch::raw_syscall(SYS_timer_delete, id);
  return 0;
}

// The clock the deadlines are computed on; 0 or the error timer_create gives.
int timer_clock(clockid_t clock, clockid_t* base) {
  if (clock_is_sleepable(clock)) {  // REALTIME, MONOTONIC, BOOTTIME, TAI
    *base = clock;
    return 0;
  }
  // Any other clock: the kernel says whether it exists and may have timers
  // (EINVAL, EOPNOTSUPP for CLOCK_MONOTONIC_RAW, EPERM for an alarm clock
  // without CAP_WAKE_ALARM), as it would for glibc's own kernel timer.
  if (int err = kernel_answer_for_clock(clock)) return err;
  if (clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM) {
    // Like their plain clocks, except that they would wake a suspended system.
    *base = clock == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : CLOCK_BOOTTIME;
    return 0;
  }
  // A CPU-time clock: its time passes only while the kernel thread runs, and
  // ptshim has no deadline on it (POSIX allows refusing these timers).
  return ENOTSUP;
}

Timer* allocate() {
  if (g_free != 0) {
    Timer* t = g_timers[g_free - 1];
    g_free = t->free_next;
    return t;
  }
  if (g_used == kMaxTimers) return nullptr;
  if (g_used == g_capacity) g_timers = internal_grow(g_timers, g_used, &g_capacity, 16);
  Timer* t = static_cast<Timer*>(internal_alloc_zeroed(sizeof(Timer)));
  t->index = g_used;
  g_timers[g_used++] = t;
  return t;
}

TimerTimes times_of(const Timer* t, uint64_t now) {
  if (!t->armed) return TimerTimes{0, 0};
  uint64_t left;
  if (t->expiry_ns > now) {
    left = t->expiry_ns - now;
  } else if (t->interval_ns != 0) {
    // Due, the notifier not there yet: the kernel too reports the time to
    // the next period.
    left = t->interval_ns - (now - t->expiry_ns) % t->interval_ns;
  } else {
    left = 0;  // expired; its notification is on the way
  }
  return TimerTimes{left, t->interval_ns};
}

void release(Timer* t) {
  disarm(t);
  t->in_use = false;
  ++t->generation;
  t->free_next = g_free;
  g_free = t->index + 1;
}

}  // namespace

int thread_timer_create(clockid_t clock, void (*function)(union sigval), union sigval value,
                        const ThreadAttr& attr, uintptr_t created_at, uintptr_t* handle) {
  clockid_t base;
  if (int err = timer_clock(clock, &base)) return err;
  if (g_notifier == nullptr) {
    Thread* notifier;
    if (thread_create_own(notifier_main, "ptshim timer", kNotifierStack, &notifier) != 0) {
      return EAGAIN;  // what glibc says when its helper thread cannot start
    }
    g_notifier = notifier;
  }
  Timer* t = allocate();
  if (t == nullptr) return EAGAIN;
  t->in_use = true;
  t->armed = false;
  t->clock = base;
  t->interval_ns = 0;
  t->overrun = 0;
  t->function = function;
  t->value = value;
  t->attr = attr;
  t->attr.set(ThreadAttr::kDetached, true);  // whatever the attributes say, as glibc
  t->creator_number = current()->number;
  t->created_at = created_at;
  *handle = handle_of(t);
  return 0;
}

int thread_timer_set(uintptr_t handle, bool absolute, const timespec& value,
                     const timespec& interval, TimerTimes* old) {
  Timer* t = find(handle);
  if (t == nullptr) return EINVAL;
  if (old != nullptr) *old = times_of(t, monotonic_now_ns());
  disarm(t);
  t->overrun = 0;
  if (value.tv_sec != 0 || value.tv_nsec != 0) {
    uint64_t expiry;
    int err = absolute ? deadline_from_abstime(t->clock, &value, &expiry)
                       : deadline_from_relative(&value, &expiry);
    if (err != 0) return err;
    t->expiry_ns = expiry;
    t->interval_ns = saturating_ns(interval);
    arm(t);
  }
  notifier_update();
  return 0;
}

int thread_timer_get(uintptr_t handle, TimerTimes* times) {
  Timer* t = find(handle);
  if (t == nullptr) return EINVAL;
  *times = times_of(t, monotonic_now_ns());
  return 0;
}

int thread_timer_overrun(uintptr_t handle, int* overrun) {
  Timer* t = find(handle);
  if (t == nullptr) return EINVAL;
  *overrun = t->overrun;
  return 0;
}

int thread_timer_delete(uintptr_t handle) {
  Timer* t = find(handle);
  if (t == nullptr) return EINVAL;
  release(t);
  notifier_update();
  return 0;
}

void thread_timers_after_fork_in_child() {
  // The notifier is gone with the other threads; the timers were the
  // parent's. Their handles no longer name anything.
  g_notifier = nullptr;
  g_armed = nullptr;
  g_free = 0;
  for (uint32_t i = g_used; i > 0; --i) {
    Timer* t = g_timers[i - 1];
    if (t->in_use) ++t->generation;
    t->in_use = false;
    t->armed = false;
    t->free_next = g_free;
    g_free = i;
  }
}

}  // namespace ptshim
