// The scheduler's mechanism: switching, blocking and waking, the idle path
// that sleeps the kernel thread until the earliest deadline or reports a
// deadlock, and the safe point where deferred work is taken. Which thread
// runs is the policy's choice (g_policy).
//
// Invariants (besides those in sched.h):
// - Runs with g_in_core == 1, on behalf of the current thread or inside the
//   preemption handler.
// - errno is per thread: in its own control block, or, when all threads share
//   one (PTSHIM_TLS=shared), saved when a thread is switched out and restored
//   when it is switched in.
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>

#include "core/diag/diag.h"
#include "core/io/io.h"
#include "core/signal/signal.h"
#include "core/thread/thread.h"

namespace ptshim {

__thread bool tls_on_scheduler_thread __attribute__((tls_model("initial-exec")));
__thread bool tls_fast_paths_allowed __attribute__((tls_model("initial-exec")));
__thread bool tls_shim_entry_plain __attribute__((tls_model("initial-exec")));
volatile int g_in_core;
volatile int g_reporting;
DeferredWork g_deferred;
SchedPoint g_preempted_at = SchedPoint::kCount;
uint64_t g_blocks;

Thread* g_current;

namespace {
Thread* g_reap;  // an exited detached thread whose stack is freed once we are off it

void after_switch_in() {
  uint64_t restored;
  if (arch::context_restored_signal_mask(&g_current->context, &restored)) {
    signal_mask_note_kernel(restored);
  }
  // Back in the tick's handler, SIGALRM stays blocked until its sigreturn:
  // a tick nested there would put a second signal frame on the thread's
  // stack, which a thread with a PTHREAD_STACK_MIN stack has no room for.
  signal_mask_install(g_current, g_current->in_tick_handler ? signal_bit(SIGALRM) : 0);
  if (g_current->context.thread_pointer == nullptr) errno = g_current->saved_errno;
  // Only a change is stored: a byte store just before the safe point's
  // word load of g_deferred.any cannot be forwarded to it, and the load
  // waits for the store (measured: 10 ns more per yield).
  uint8_t signals = signal_deliverable(g_current, g_current->pending_signals) != 0;
  if (g_deferred.signals != signals) g_deferred.signals = signals;
  if (g_reap != nullptr && g_reap != g_current) {
    Thread* dead = g_reap;
    g_reap = nullptr;
    reap_detached(dead);
  }
}

// Every switch is a scheduling point: it ends the running segment of a
// seeded run (step.cc), and a thread that runs on starts the next.
void switch_to(Thread* next) {
  Thread* self = g_current;
  if (__builtin_expect(g_observe, 0)) observe_switch(self, next);
  next->state = ThreadState::kRunning;
  step_segment_switch(next);
  if (next == self) return;
  // The preemption (if this is one) is this switch's alone: a thread that
  // runs before the preempted one is back and yields has yielded.
  g_preempted_at = SchedPoint::kCount;
  auto sp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (__builtin_expect(stack_overflowed(self, sp), 0) && !on_signal_stack()) {
    report_unguarded_overflow(self, nullptr);
  }
  if (self->context.thread_pointer == nullptr) self->saved_errno = errno;
  g_current = next;
  if (g_deferred.switch_wanted) g_deferred.switch_wanted = 0;  // see after_switch_in
  preempt_sync_timers();
  cputime_switch(&self->cpu);  // the time since its switch-in is its CPU time
  arch::context_switch(&self->context, &next->context);
  after_switch_in();
}

// Nothing can run: the kernel thread sleeps until the earliest deadline,
// until an I/O waiter's fd is ready, or until a program signal arrives
// (with neither of the first two, core/diag first decides whether that is a
// deadlock). The program's signals are blocked from
// the last look at the deferred work until the sleeping call, which lets
// them in atomically (ppoll's mask): one arriving in between ends the sleep
// instead of waiting in core/signal's inbox until the sleep ends. EINTR just
// brings us back to the loop.
//
// Under virtual time a deadline is never slept for: the fds are polled and
// the program's signals let in without waiting, and if that made nothing
// runnable the clock jumps to the earliest deadline (idle time: nobody's CPU
// time), which the scheduler loop then expires. Only a wait without any
// deadline sleeps in the kernel (for I/O, a futex word or a signal).
void idle_until_next_event() {
  bool io = io_waiters_exist();
  bool deadline = deadline_any();
  // may report, warn, or die (core/diag)
  // (A child waiter has a recheck deadline, except under virtual time: a
  // child can end its wait too.)
  if (!deadline && !io_waits_may_end_from_outside() && !child_waiters_exist()) {
    deadlock_check_idle();
  }
  preempt_before_idle();
  // A tick that came after the last switch asks for a switch that nothing
  // can take now. Left pending, it keeps the wait below from sleeping, and
  // the scheduler loop spins until the next deadline (seen: a 200 ms sleep
  // that burnt 194 ms of CPU). The slice timer is disarmed by now, so no
  // tick comes after this.
  if (g_deferred.switch_wanted == kSwitchTick) {
    if (__builtin_expect(g_observe, 0)) observe_safe_point();
    g_deferred.switch_wanted = 0;
  }
  cputime_idle_begin();
  uint64_t sleeping_mask = signal_idle_begin();
  bool virtual_jump =
      deadline && g_virtual_clock.on && virtual_deadline_reachable(deadline_earliest_ns());
  if (!work_deferred()) {
    int64_t timeout = -1;
    bool child_recheck_due = false;
    if (virtual_jump) {
      timeout = 0;
    } else if (g_virtual_clock.on && child_waiters_exist()) {
      timeout = kChildRecheckNs;  // real time: see child.cc
      child_recheck_due = true;
    } else if (deadline && !g_virtual_clock.on) {
      uint64_t now = monotonic_now_ns(), earliest = deadline_earliest_ns();
      timeout = earliest > now ? static_cast<int64_t>(earliest - now) : 0;
    }
    if (io) io_poll(timeout, &sleeping_mask);
    if (!io || virtual_jump) {  // with fds io_poll let them in too; with futex words only, not
      timespec left = timespec_from_ns(static_cast<uint64_t>(timeout));
      arch::raw_syscall(SYS_ppoll, 0, 0, timeout >= 0 ? reinterpret_cast<long>(&left) : 0,
                        reinterpret_cast<long>(&sleeping_mask), sizeof sleeping_mask);
    }
    if (child_recheck_due) child_recheck();
  }
  signal_idle_end(sleeping_mask);
  cputime_idle_end();
  // (A signal that came, a dump asked for: the scheduler loop looks first.)
  if (virtual_jump && !g_deferred.arrived && !g_deferred.dump && !g_policy->any_runnable()) {
    virtual_time_advance_to(deadline_earliest_ns(), true);
  }
}

// The scheduler loop. A dump signal that arrived meanwhile is taken here
// too: when nothing can run the program may be hung, which is exactly when
// a dump is wanted, and no safe point would come (the signal ends the idle
// sleep with EINTR).
Thread* pick_next() {
  for (;;) {
    expire_deadlines();
    if (Thread* t = g_policy->take_next()) return t;
    if (g_deferred.dump) take_deferred_dump();
    if (g_deferred.arrived) {  // a signal may have woken someone
      signal_route_arrivals();
      continue;
    }
    idle_until_next_event();
  }
}

// block() ended by a signal for the thread, whose handlers run now, or by
// a cancellation request. An asynchronous one that ended a wait that is no
// cancellation point (a mutex, a rwlock read, ...) is acted on here, out of
// the waiting call; at a cancellation point the point acts on it.
__attribute__((noinline)) void after_unusual_wake(Thread* self, WakeReason reason) {
  if (reason == WakeReason::kSignaled) {
    signal_run_handlers_in_wait();
  } else if (!self->at_cancel_point && cancel_async_due(self)) {
    leave_core();
    act_on_cancellation();
  }
}

// A thread that should run before the running one preempts it at the next
// safe point; a tick's switch already asked for keeps its kind.
void enqueue_runnable(Thread* t, bool front = false) {
  t->state = ThreadState::kRunnable;
  if (__builtin_expect(g_policy->make_runnable(t, front), 0) && g_deferred.switch_wanted == 0) {
    g_deferred.switch_wanted = kSwitchPriority;
  }
}

WaitQueue g_keyed_waiters;

// A private object in memory another process also uses (undefined
// behaviour, but it must not crash or hang the scheduler) has that process's
// thread pointers in its queue: an end about to be followed that is not a
// thread of ours on this very queue empties the queue. Our own threads'
// links only ever name our threads (each is set from a checked end), so
// every walk from a checked end stays in our table, and every wake makes
// progress (a woken thread is on no queue, so it no longer checks).
// (In the table is enough to read t safely; a slot of ours names q only
// while it waits on q.)
[[gnu::always_inline]] inline bool is_member(const WaitQueue* q, const Thread* t) {
  return thread_in_table(t) && t->queue == q;
}

[[gnu::noinline, gnu::cold]] void drop_foreign_queue(WaitQueue* q) {
  static bool warned;
  if (!warned) {
    warned = true;
    Writer()
        .str("ptshim: a wait queue at ")
        .hex(reinterpret_cast<uintptr_t>(q))
        .str(
            " held a thread that is not this process's (a process-private object in shared "
            "memory?): its waiters were dropped\n");
  }
  q->head = q->tail = nullptr;
}

[[gnu::always_inline]] inline Thread* checked_head(WaitQueue* q) {
  Thread* t = q->head;
  if (t != nullptr && __builtin_expect(!is_member(q, t), 0)) {
    drop_foreign_queue(q);
    return nullptr;
  }
  return t;
}

[[gnu::always_inline]] inline void check_tail(WaitQueue* q) {
  Thread* t = q->tail;
  if (t != nullptr && __builtin_expect(!is_member(q, t), 0)) drop_foreign_queue(q);
}
}  // namespace

void mark_scheduler_thread() {
  tls_on_scheduler_thread = true;
  // Lock-order checking sees every lock and unlock: no fast path skips it.
  tls_fast_paths_allowed = !g_policy_sees_every_point && !options().lock_order;
  tls_shim_entry_plain = !g_recording;
}

void set_initial_current(Thread* t) {
  g_current = t;
  t->state = ThreadState::kRunning;
}

Thread* current() { return g_current; }

void expire_deadlines() {
  bool io = io_waiters_exist();
  if (!deadline_any() && !io) return;
  uint64_t now = monotonic_now_ns();
  while (Thread* t = deadline_pop_expired(now)) {
    // On real time, when a deadline passes is the machine's business.
    if (__builtin_expect(g_recording, 0) && options().seeded && !virtual_time_on()) {
      schedule_note_uncontrolled(Uncontrolled::kRealTime);
    }
    wake(t, WakeReason::kTimedOut);
  }
  // The polls' rate is real time's: readiness comes in real time.
  if (io) io_poll_if_due(g_virtual_clock.on ? real_monotonic_now_ns() : now);
}

bool yield() {
  expire_deadlines();
  if (!g_policy->any_runnable()) return false;
  // The thread gives the processor back; preempt_switch sets the flag again
  // when this yield is a preemption. One store and no load (g_current is in
  // a register already): all that this costs a yield.
  Thread* self = g_current;
  self->preempted = false;
  enqueue_runnable(self);
  Thread* next = g_policy->take_next();  // itself, when the others rank lower
  switch_to(next);
  return next != self;
}

void yield_preempted(SchedPoint point) {
  g_preempted_at = point;
  yield();
  g_preempted_at = SchedPoint::kCount;
}

// Not a preemption by the slice: the slice rule (preempt.cc) and the
// thread's place among its equals are left as they are.
void yield_to_higher_priority() {
  Thread* self = g_current;
  enqueue_runnable(self, true);
  if (__builtin_expect(g_observe, 0)) observe_priority_switch();
  switch_to(g_policy->take_next());
}

[[gnu::noinline]] int take_deferred_work_then(int result) {
  take_deferred_work();
  return result;
}

void take_deferred_work() {
  if (g_deferred.dump) take_deferred_dump();
  if (g_deferred.signals || g_deferred.arrived) deliver_pending_signals();
  // A switch stays deferred while flockfile locks are held, until funlockfile.
  if (g_deferred.switch_wanted && g_current->file_locks_held == 0) {
    enter_core();
    uint8_t wanted = g_deferred.switch_wanted;
    if (__builtin_expect(g_observe, 0)) observe_safe_point();
    g_deferred.switch_wanted = 0;
    if (wanted == kSwitchPriority) {
      yield_to_higher_priority();
    } else if (g_policy->any_runnable() && !(g_step_on && step_slice_armed()) &&
               g_policy->switch_at(SchedPoint::kTick)) {
      // A tick deferred inside the core was not put to the policy then (a
      // SCHED_FIFO thread is not rotated); nor may it take over from a
      // seeded slice (step.cc).
      if (options().seeded) schedule_note_uncontrolled(Uncontrolled::kTimerPreemption);
      preempt_switch();
    }
    leave_core();
  }
  // Last: the trap flag it may set must meet no more of ptshim than the way out.
  if (__builtin_expect(g_deferred.step, 0)) step_leave_core();
}

WakeReason block(WaitQueue* queue, WaitKind kind, const void* object, uint64_t deadline_ns,
                 bool front) {
  Thread* self = g_current;
  self->state = ThreadState::kBlocked;
  self->preempted = false;  // it gives the processor back
  self->wait_kind = kind;
  self->wait_object = object;
  self->wake_reason = WakeReason::kWoken;
  if (queue != nullptr) {
    // Checked before self is marked as on it: another process's thread at
    // self's address would pass for self.
    if (front) {
      checked_head(queue);
      wait_queue_push_front(queue, self);
    } else {
      check_tail(queue);
      wait_queue_push(queue, self);
    }
  }
  self->queue = queue;
  if (deadline_ns != 0) deadline_insert(self, deadline_ns);
  cputime_sample(&self->cpu);
  ++g_blocks;
  if (__builtin_expect(g_observe, 0)) observe_stop(self);
  switch_to(pick_next());
  self->wait_kind = WaitKind::kNone;
  self->wait_object = nullptr;
  WakeReason reason = self->wake_reason;  // a handler's own waits overwrite it
  // One compare for both unusual ends (kInterrupted, kSignaled are last).
  if (__builtin_expect(reason >= WakeReason::kInterrupted, 0)) after_unusual_wake(self, reason);
  return reason;
}

void wake(Thread* t, WakeReason reason) {
  if (t->queue != nullptr) {
    wait_queue_remove(t->queue, t);
    t->queue = nullptr;
  }
  if (t->heap_slot != 0) deadline_remove(t);
  t->wake_reason = reason;
  enqueue_runnable(t);
  preempt_sync_timers();
}

Thread* next_waiter(WaitQueue* queue) {
  if (checked_head(queue) == nullptr) return nullptr;
  return g_policy->choose_waiter(queue);
}

Thread* wake_one(WaitQueue* queue) {
  if (queue->head == nullptr) return nullptr;
  Thread* t = next_waiter(queue);
  if (t != nullptr) wake(t, WakeReason::kWoken);
  return t;
}

void wake_all(WaitQueue* queue) {
  while (Thread* t = checked_head(queue)) wake(t, WakeReason::kWoken);
}

Thread* wait_queue_first(WaitQueue* queue) { return checked_head(queue); }

WakeReason block_keyed(WaitKind kind, const void* key, uint64_t deadline_ns) {
  return block(&g_keyed_waiters, kind, key, deadline_ns);
}

bool wake_keyed(const void* key) {
  bool woke = false;
  Thread* t = g_keyed_waiters.head;
  while (t != nullptr) {
    Thread* next = t->next;
    if (t->wait_object == key) {
      wake(t, WakeReason::kWoken);
      woke = true;
    }
    t = next;
  }
  return woke;
}

void make_runnable(Thread* t, bool front) {
  enqueue_runnable(t, front);
  preempt_sync_timers();
}

WakeReason sleep_until(uint64_t deadline_ns) {
  if (deadline_ns <= monotonic_now_ns()) {
    yield();  // a zero sleep still lets others run, as the kernel's does
    return WakeReason::kTimedOut;
  }
  // Only the deadline, a cancellation request or a signal's handler ends it.
  if (cancel_due_at_point(g_current)) return WakeReason::kInterrupted;
  WakeReason reason;
  while ((reason = block(nullptr, WaitKind::kSleep, nullptr, deadline_ns)) == WakeReason::kWoken) {
  }
  return reason;
}

void reschedule_blocked(Thread* t, uint64_t deadline_ns) {
  if (t->heap_slot != 0) deadline_remove(t);
  if (deadline_ns != 0) deadline_insert(t, deadline_ns);
  preempt_sync_timers();  // an earlier deadline may need the wake timer earlier
}

void exit_current_and_schedule() {
  Thread* self = g_current;
  if (self->detached && !self->is_main) g_reap = self;
  cputime_sample(&self->cpu);
  ++g_blocks;
  if (self->level != 0) {  // keeps the policy's count of raised threads
    self->base_level = self->boost_level = 0;
    priority_set_boost(self, 0);
  }
  if (__builtin_expect(g_observe, 0)) observe_stop(self);
  switch_to(pick_next());
  __builtin_unreachable();
}

void scheduler_after_fork_in_child() {
  g_policy->after_fork_in_child();
  g_reap = nullptr;
  g_deferred.switch_wanted = 0;
  deadline_reset();
}

void after_first_switch_in() {
  after_switch_in();
  step_thread_starts();
}

}  // namespace ptshim
