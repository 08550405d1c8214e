// The CPU-time clocks of user threads: their ids, reading them, and sleeping
// on CPU-time clocks. The time itself is core/sched's (cputime.cc).
//
// Invariants:
// - Ids are in the kernel's encoding (include/linux/posix-timers.h): the
//   clock of thread id T is (~T << 3) | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED,
//   negative. The original thread's is its kernel thread's real one; every
//   other user thread's names a thread id from PID_MAX_LIMIT (2^22) up, which
//   no kernel thread has: slot + 2^21 * (number % 126) above it, below 2^28
//   (so the id stays a negative int). A stale id names nobody unless the slot
//   was reused by a thread whose number is the same modulo 126.
// - A clock that names no live user thread gets EINVAL, as the kernel gives
//   for a thread that has exited; anything else that is not a user thread's
//   CPU clock is the kernel's business.
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>

#include "core/thread/thread.h"

namespace ptshim {

namespace {
constexpr int kPerThread = 4;            // CPUCLOCK_PERTHREAD_MASK
constexpr int kWhichMask = 3;            // CPUCLOCK_CLOCK_MASK
constexpr int kWhichMax = 3;             // CPUCLOCK_MAX: no such clock
constexpr int kSched = 2;                // CPUCLOCK_SCHED
constexpr uint32_t kFirstId = 1u << 22;  // PID_MAX_LIMIT on 64-bit kernels
constexpr uint32_t kGenerations = 126;   // (2^28 - 2^22) / 2^21
static_assert(kFirstId + kGenerations * kThreadSlotsMax <= (1u << 28));
// A sleep on another process's CPU clock (which may advance faster than
// real time, one CPU per thread of it) looks again at least this often.
constexpr uint64_t kForeignStepNs = 10'000'000;

clockid_t make_thread_clock(uint32_t tid, int which) {
  return static_cast<clockid_t>((~tid << 3) | kPerThread | static_cast<uint32_t>(which));
}
uint32_t clock_tid(clockid_t clock) { return static_cast<uint32_t>(~(clock >> 3)); }
bool is_cpu_clock(clockid_t clock) {
  return clock < 0 || clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID;
}
uint32_t kernel_tid() { return static_cast<uint32_t>(arch::raw_syscall(SYS_gettid)); }

Thread* thread_alive(Thread* t) {
  return t != nullptr && t->state != ThreadState::kExited ? t : nullptr;
}

// The process's own CPU clock advances no faster than real time: only the
// one kernel thread runs.
bool is_own_process_clock(clockid_t clock) {
  if (clock == CLOCK_PROCESS_CPUTIME_ID) return true;
  if (clock >= 0 || (clock & kPerThread) != 0) return false;
  uint32_t pid = clock_tid(clock);
  return pid == 0 || pid == static_cast<uint32_t>(arch::raw_syscall(SYS_getpid));
}
}  // namespace

clockid_t thread_cpu_clock(const Thread* t) {
  cputime_make_exact();  // the program will read it
  if (t->is_main) return make_thread_clock(kernel_tid(), kSched);
  auto generation = static_cast<uint32_t>(t->number % kGenerations);
  auto slot = static_cast<uint32_t>(thread_slot(t));
  return make_thread_clock(kFirstId + generation * kThreadSlotsMax + slot, kSched);
}

CpuClockOwner thread_cpu_clock_owner(clockid_t clock, Thread** owner) {
  if (clock == CLOCK_THREAD_CPUTIME_ID) {
    *owner = current();
    return CpuClockOwner::kThread;
  }
  if (clock >= 0 || (clock & kPerThread) == 0) return CpuClockOwner::kKernel;
  if ((clock & kWhichMask) == kWhichMax) return CpuClockOwner::kNone;
  uint32_t tid = clock_tid(clock);
  Thread* t = nullptr;
  if (tid == 0) {
    t = current();  // the kernel's "calling thread"
  } else if (tid >= kFirstId) {
    uint32_t n = tid - kFirstId;
    t = thread_alive(thread_in_slot(n % kThreadSlotsMax));
    if (t != nullptr && (t->is_main || t->number % kGenerations != n / kThreadSlotsMax)) {
      t = nullptr;
    }
  } else if (tid == kernel_tid()) {
    t = thread_alive(thread_in_slot(0));
    if (t != nullptr && !t->is_main) t = nullptr;
  } else {
    return CpuClockOwner::kKernel;  // another kernel thread: the kernel decides
  }
  *owner = t;
  return t != nullptr ? CpuClockOwner::kThread : CpuClockOwner::kNone;
}

clockid_t thread_cpu_clock_for_kernel(clockid_t clock) {
  Thread* t;
  if (clock >= 0 || thread_cpu_clock_owner(clock, &t) != CpuClockOwner::kThread) return clock;
  return make_thread_clock(0, clock & kWhichMask);
}

int cpu_clock_now(clockid_t clock, uint64_t* ns) {
  Thread* t;
  switch (thread_cpu_clock_owner(clock, &t)) {
    case CpuClockOwner::kThread:
      *ns = cputime_ns(t);
      return 0;
    case CpuClockOwner::kNone:
      return EINVAL;
    case CpuClockOwner::kKernel:
      if (g_virtual_clock.on && is_own_process_clock(clock)) {
        *ns = virtual_process_cpu_ns();
        return 0;
      }
      break;
  }
  timespec ts;
  long r = arch::raw_syscall(SYS_clock_gettime, clock, reinterpret_cast<long>(&ts));
  if (r < 0) return static_cast<int>(-r);
  *ns = ns_from_timespec(ts);
  return 0;
}

int cpu_clock_sleep(clockid_t clock, bool absolute, const timespec* request, timespec* remain) {
  if (!is_cpu_clock(clock)) return EINVAL;
  if (!timespec_is_valid(request) || request->tv_sec < 0) return EINVAL;
  Thread* t;
  // The kernel refuses a sleep on the caller's own thread clock (it could
  // never end); another thread's is a sleep until that thread has used so
  // much CPU time.
  if (thread_cpu_clock_owner(clock, &t) == CpuClockOwner::kThread && t == current()) {
    return EINVAL;
  }
  uint64_t now;
  if (int err = cpu_clock_now(clock, &now)) return err;
  uint64_t wanted = ns_from_timespec(*request);
  uint64_t target = absolute ? wanted : (now + wanted < now ? UINT64_MAX : now + wanted);
  // One kernel thread: a user thread's or this process's CPU time grows no
  // faster than real time, so sleeping for what is left never oversleeps.
  bool bounded =
      !is_own_process_clock(clock) && thread_cpu_clock_owner(clock, &t) == CpuClockOwner::kKernel;
  while (now < target) {
    uint64_t left = target - now;
    if (bounded && left > kForeignStepNs) left = kForeignStepNs;
    uint64_t mono = monotonic_now_ns();
    WakeReason reason = sleep_until(mono + left < mono ? UINT64_MAX : mono + left);
    if (reason == WakeReason::kInterrupted) return 0;  // the cancellation point acts
    if (cpu_clock_now(clock, &now) != 0) return 0;     // the thread is gone: its timer ended
    if (reason == WakeReason::kSignaled) {
      if (remain != nullptr && !absolute)
        *remain = timespec_from_ns(now < target ? target - now : 0);
      return EINTR;
    }
  }
  return 0;
}

}  // namespace ptshim
