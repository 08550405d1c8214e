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
volatile int g_in_core;
volatile int g_reporting;
DeferredWork g_deferred;

namespace {
Thread* g_current;
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

void switch_to(Thread* next) {
  Thread* self = g_current;
  next->state = ThreadState::kRunning;
  if (next == self) return;
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
// until an I/O waiter's fd is ready, or until a program signal arrives that
// may wake a thread (core/signal). The program's signals are blocked from
// the last look at the deferred work until the sleeping call, which lets
// them in atomically (ppoll's mask): one arriving in between ends the sleep
// instead of waiting in core/signal's inbox until the sleep ends. EINTR just
// brings us back to the loop.
void idle_until_next_event() {
  bool io = io_waiters_exist();
  bool deadline = deadline_any();
  if (!deadline && !io && !signal_may_wake_a_thread()) report_deadlock_and_abort();
  preempt_before_idle();
  cputime_idle_begin();
  uint64_t sleeping_mask = signal_idle_begin();
  if (!work_deferred()) {
    int64_t timeout = -1;
    if (deadline) {
      uint64_t now = monotonic_now_ns(), earliest = deadline_earliest_ns();
      timeout = earliest > now ? static_cast<int64_t>(earliest - now) : 0;
    }
    if (io) {
      io_poll(timeout, &sleeping_mask);
    } else {
      timespec left = timespec_from_ns(static_cast<uint64_t>(timeout));
      arch::raw_syscall(SYS_ppoll, 0, 0, timeout >= 0 ? reinterpret_cast<long>(&left) : 0,
                        reinterpret_cast<long>(&sleeping_mask), sizeof sleeping_mask);
    }
  }
  signal_idle_end(sleeping_mask);
  cputime_idle_end();
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

void enqueue_runnable(Thread* t) {
  t->state = ThreadState::kRunnable;
  g_policy->make_runnable(t);
}

WaitQueue g_keyed_waiters;
}  // namespace

void mark_scheduler_thread() {
  tls_on_scheduler_thread = true;
  tls_fast_paths_allowed = !g_policy_sees_every_point;
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
  while (Thread* t = deadline_pop_expired(now)) wake(t, WakeReason::kTimedOut);
  if (io) io_poll_if_due(now);
}

void yield() {
  expire_deadlines();
  if (!g_policy->any_runnable()) return;
  // The thread gives the processor back; preempt_switch sets the flag again
  // when this yield is a preemption. One store and no load (g_current is in
  // a register already): all that this costs a yield.
  g_current->preempted = false;
  enqueue_runnable(g_current);
  switch_to(g_policy->take_next());
}

void take_deferred_work() {
  if (g_deferred.dump) take_deferred_dump();
  if (g_deferred.signals || g_deferred.arrived) deliver_pending_signals();
  if (!g_deferred.switch_wanted) return;
  if (g_current->file_locks_held != 0) return;  // stays deferred until funlockfile
  enter_core();
  g_deferred.switch_wanted = 0;
  preempt_switch();
  leave_core();
}

WakeReason block(WaitQueue* queue, WaitKind kind, const void* object, uint64_t deadline_ns,
                 bool front) {
  Thread* self = g_current;
  self->state = ThreadState::kBlocked;
  self->preempted = false;  // it gives the processor back
  self->wait_kind = kind;
  self->wait_object = object;
  self->wake_reason = WakeReason::kWoken;
  self->queue = queue;
  if (queue != nullptr) {
    if (front) {
      wait_queue_push_front(queue, self);
    } else {
      wait_queue_push(queue, self);
    }
  }
  if (deadline_ns != 0) deadline_insert(self, deadline_ns);
  cputime_sample(&self->cpu);
  switch_to(pick_next());
  self->wait_kind = WaitKind::kNone;
  self->wait_object = nullptr;
  WakeReason reason = self->wake_reason;  // a handler's own waits overwrite it
  if (__builtin_expect(reason == WakeReason::kSignaled, 0)) signal_run_handlers_in_wait();
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

Thread* next_waiter(const WaitQueue* queue) { return g_policy->choose_waiter(queue); }

Thread* wake_one(WaitQueue* queue) {
  if (queue->head == nullptr) return nullptr;
  Thread* t = next_waiter(queue);
  wake(t, WakeReason::kWoken);
  return t;
}

void wake_all(WaitQueue* queue) {
  while (queue->head != nullptr) wake(queue->head, WakeReason::kWoken);
}

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

void make_runnable(Thread* t) {
  enqueue_runnable(t);
  preempt_sync_timers();
}

WakeReason sleep_until(uint64_t deadline_ns) {
  if (deadline_ns <= monotonic_now_ns()) {
    yield();  // a zero sleep still lets others run, as the kernel's does
    return WakeReason::kTimedOut;
  }
  // Only the deadline, a cancellation request or a signal's handler ends it.
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
  switch_to(pick_next());
  __builtin_unreachable();
}

void scheduler_after_fork_in_child() {
  g_policy->after_fork_in_child();
  g_reap = nullptr;
  g_deferred.switch_wanted = 0;
  deadline_reset();
}

void after_first_switch_in() { after_switch_in(); }

}  // namespace ptshim
