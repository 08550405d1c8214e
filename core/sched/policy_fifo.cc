// Round robin within priority levels, as Linux schedules one CPU. Level 0
// holds SCHED_OTHER, SCHED_BATCH and SCHED_IDLE threads, levels 1..99 the
// real-time priorities; a thread sits at its effective level (Thread::level:
// its own priority, raised by the mutexes it holds, priority.cc).
//
// INVARIANTS:
// - The run queue is one FIFO per level. For the real-time levels, bit l of
//   g_nonempty is set exactly when level l's queue holds a thread, and
//   g_rt_runnable counts the threads they hold; level 0 has no bit, its
//   queue's head says it all. So while no real-time thread is runnable, one
//   load of g_rt_runnable sends every operation to level 0 alone.
// - The highest non-empty level runs first: a thread made runnable above the
//   running thread's level preempts it (make_runnable returns true), one at
//   or below it waits.
// - A tick rotates the running thread behind its equals unless it is
//   SCHED_FIFO; it never gives the processor to a lower level.
// - RT THROTTLING, as Linux's (sched_rt_runtime_us of every
//   sched_rt_period_us, read from /proc once): ticks that find a real-time
//   thread running charge it the time since the last tick (at most
//   kLongestCharge, since ticks pause while nothing else is runnable); once
//   the window's real-time time reaches the runtime, g_throttled lets level 0
//   run before the real-time levels until the window ends. A SCHED_FIFO
//   thread that spins waiting for a SCHED_OTHER one therefore finishes, as on
//   Linux, after most of a second.
// - g_raised counts live threads whose level is above 0. While it is 0 every
//   thread is at level 0 and the run queue and wake order are one FIFO, at
//   the cost of the round robin this policy was before priorities.
#include <fcntl.h>
#include <sys/syscall.h>

#include "core/sched/sched.h"

namespace ptshim {

namespace {
WaitQueue g_levels[kPriorityLevels];
uint64_t g_nonempty[2];  // bit l % 64 of word l / 64: real-time level l is not empty
uint32_t g_rt_runnable;
int g_raised;

bool g_throttled;
struct RtWindow {
  bool known;
  uint64_t period_ns, runtime_ns;  // runtime 0: no throttling
  uint64_t start_ns, used_ns, last_tick_ns;
} g_rt;
constexpr uint64_t kLongestCharge = 20'000'000;

// A /proc/sys/kernel value in microseconds; -1 when unreadable.
int64_t read_kernel_us(const char* path) {
  long fd = arch::raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_RDONLY);
  if (fd < 0) return -1;
  char text[32];
  long n = arch::raw_syscall(SYS_read, fd, reinterpret_cast<long>(text), sizeof text - 1);
  arch::raw_syscall(SYS_close, fd);
  if (n <= 0 || text[0] == '-') return -1;
  int64_t value = 0;
  for (long i = 0; i < n && text[i] >= '0' && text[i] <= '9'; ++i)
    value = value * 10 + text[i] - '0';
  return value;
}

void charge_real_time(const Thread* self) {
  if (!g_rt.known) {
    g_rt.known = true;
    int64_t period = read_kernel_us("/proc/sys/kernel/sched_rt_period_us");
    int64_t runtime = read_kernel_us("/proc/sys/kernel/sched_rt_runtime_us");
    if (period > 0 && runtime >= 0 && runtime < period) {
      g_rt.period_ns = static_cast<uint64_t>(period) * 1000;
      g_rt.runtime_ns = static_cast<uint64_t>(runtime) * 1000;
    }
  }
  // While SCHED_OTHER threads run unthrottled there is nothing to charge:
  // a tick costs them no clock read. (The first real-time charge after that
  // is at most kLongestCharge.)
  if (g_rt.runtime_ns == 0 || (self->level == 0 && !g_throttled)) return;
  uint64_t now = real_monotonic_now_ns();  // throttling shares real CPU time
  if (now - g_rt.start_ns >= g_rt.period_ns) {
    g_rt.start_ns = now;
    g_rt.used_ns = 0;
    g_throttled = false;
  }
  uint64_t since = now - g_rt.last_tick_ns;
  g_rt.last_tick_ns = now;
  if (self->level == 0) return;
  g_rt.used_ns += since < kLongestCharge ? since : kLongestCharge;
  if (g_rt.used_ns >= g_rt.runtime_ns) g_throttled = true;
}

int top_level() {
  if (g_nonempty[1] != 0) return 127 - __builtin_clzll(g_nonempty[1]);
  if (g_nonempty[0] != 0) return 63 - __builtin_clzll(g_nonempty[0]);
  return g_levels[0].head != nullptr ? 0 : -1;
}

void remove_from_level(Thread* t, int level) {
  WaitQueue* q = &g_levels[level];
  wait_queue_remove(q, t);
  if (level == 0) return;
  --g_rt_runnable;
  if (q->head == nullptr) g_nonempty[level >> 6] &= ~(uint64_t{1} << (level & 63));
}

// `front`: ahead of its equals (a thread that a higher level preempted, or
// whose priority was lowered, goes first among its new equals, as Linux does).
bool fifo_make_runnable(Thread* t, bool front) {
  int level = t->level;
  if (__builtin_expect((level | static_cast<int>(front)) == 0, 1)) {  // most programs' threads
    wait_queue_push(&g_levels[0], t);
    return false;
  }
  if (front) {
    wait_queue_push_front(&g_levels[level], t);
  } else {
    wait_queue_push(&g_levels[level], t);
  }
  if (level != 0) {
    ++g_rt_runnable;
    g_nonempty[level >> 6] |= uint64_t{1} << (level & 63);
  }
  return level > current()->level && !g_throttled;
}

Thread* fifo_take_next() {
  // No real-time thread is runnable: level 0's head, unlinked directly.
  if (__builtin_expect(g_rt_runnable == 0, 1)) {
    WaitQueue* q = &g_levels[0];
    Thread* t = q->head;
    if (t == nullptr) return nullptr;
    Thread* next = t->next;
    q->head = next;
    if (next != nullptr) {
      next->prev = nullptr;
    } else {
      q->tail = nullptr;
    }
    t->next = nullptr;
    return t;
  }
  int level = g_throttled && g_levels[0].head != nullptr ? 0 : top_level();
  Thread* t = g_levels[level].head;
  remove_from_level(t, level);
  return t;
}

bool fifo_any_runnable() { return g_levels[0].head != nullptr || g_rt_runnable != 0; }

// The highest level, and the longest waiter among those.
Thread* fifo_choose_waiter(const WaitQueue* q) {
  Thread* best = q->head;
  if (__builtin_expect(g_raised == 0, 1)) return best;
  for (Thread* t = best->next; t != nullptr; t = t->next) {
    if (t->level > best->level) best = t;
  }
  return best;
}

bool fifo_switch_at(SchedPoint point) {
  if (point != SchedPoint::kTick) return false;  // (seeded slices are the seeded policies')
  const Thread* self = current();
  charge_real_time(self);
  if (g_throttled) {
    // Level 0 goes first: it rotates within itself, and a real-time
    // thread gives way to it.
    if (self->level == 0 || g_levels[0].head != nullptr) return g_levels[0].head != nullptr;
  }
  int top = top_level();
  if (top < self->level) return top < 0;  // lower levels wait; none: the caller's business
  return top > self->level || !self->sched_fifo;
}

bool fifo_level_changed(Thread* t, int old_level) {
  int level = t->level;
  g_raised += (level > 0) - (old_level > 0);
  if (t->state == ThreadState::kRunnable && level != old_level) {
    remove_from_level(t, old_level);
    // Raised: behind its new equals; lowered: ahead of them (sched(7)).
    fifo_make_runnable(t, level < old_level);
  }
  return top_level() > current()->level && !g_throttled;
}

void fifo_after_fork_in_child() {
  for (WaitQueue& q : g_levels) q = WaitQueue{};
  g_nonempty[0] = g_nonempty[1] = 0;
  g_rt_runnable = 0;
  g_throttled = false;
  g_rt.used_ns = 0;
  g_raised = current() != nullptr && current()->level > 0;
}
}  // namespace

const SchedPolicy kFifoPolicy = {
    "fifo",
    fifo_make_runnable,
    fifo_take_next,
    fifo_any_runnable,
    fifo_choose_waiter,
    fifo_switch_at,
    fifo_level_changed,
    fifo_after_fork_in_child,
    false,
};

}  // namespace ptshim
