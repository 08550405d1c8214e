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
// - g_raised counts live threads whose level is above 0. While it is 0 every
//   thread is at level 0 and the run queue and wake order are one FIFO, at
//   the cost of the round robin this policy was before priorities.
#include "core/sched/sched.h"

namespace ptshim {

namespace {
WaitQueue g_levels[kPriorityLevels];
uint64_t g_nonempty[2];  // bit l % 64 of word l / 64: real-time level l is not empty
uint32_t g_rt_runnable;
int g_raised;

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
  return level > current()->level;
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
  int level = top_level();
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
  if (point != SchedPoint::kTick) return false;
  int top = top_level();
  const Thread* self = current();
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
  return top_level() > current()->level;
}

void fifo_after_fork_in_child() {
  for (WaitQueue& q : g_levels) q = WaitQueue{};
  g_nonempty[0] = g_nonempty[1] = 0;
  g_rt_runnable = 0;
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
