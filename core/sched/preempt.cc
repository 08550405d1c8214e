// Preemption: the timers, the SIGALRM handler and the safe-point rule.
//
// THE RULE. A timer signal may arrive anywhere. The handler switches threads
// only when all of these hold:
//   1. g_in_core == 0: no shim function is running and no switch is under way,
//      so every core structure is consistent. (If it is 1, the handler sets
//      g_deferred.switch_wanted and returns; leave_core() takes the preemption as the
//      shim call ends.) The fast paths (sched.h) run with it at 0:
//      rule 2 covers them, since their code is in libptshim, and they touch
//      nothing the handler writes (core/sched/sched.h).
//   2. The interrupted program counter is in code that may be suspended
//      midway: the program and its own libraries, the vDSO, anonymous code.
//      It is NOT safe in libc.so.6, ld-linux, libptshim, libstdc++,
//      libgcc_s, libunwind, the libpthread/libdl/librt stubs, NSS and gconv
//      modules, or glibc's malloc replacements (libc_malloc_debug, with its
//      own arena locks; libmemusage). Those hold locks of their own (malloc
//      arenas, stdio, the loader's locks, the unwinder's caches) or run glibc
//      state that assumes no other thread enters it midway; suspending them
//      and running a thread that enters the same code corrupts it or blocks
//      the kernel thread on a futex no one will release. Because of this rule
//      glibc's internal code never interleaves between user threads, which is
//      what lets one kernel thread run it without glibc's own thread machinery.
//   3. The thread is not running on a signal stack (sigaltstack): another
//      thread could take a signal on that same stack.
//   4. The thread holds no flockfile lock: glibc's stdio does not lock
//      internally (core/file_lock.cc), so only this keeps a locked region of
//      stdio calls whole for the threads that do not use flockfile.
// When 1 holds but 2, 3 or 4 does not, the handler still does the bookkeeping
// that needs no switch (waking expired sleepers, stopping an idle timer),
// defers the switch (g_deferred.switch_wanted), and returns. The pending preemption is taken at the
// next safe point: the end of any shim call, or the next tick that lands in safe code (the slice
// timer is periodic while others are runnable). It is never lost, and nothing spins waiting for it.
//
// WHAT GLIBC BELIEVES. Rule 2 means libc's code never interleaves between
// user threads, so glibc's single-threaded shortcuts would be safe inside
// libc. But the one byte glibc 2.36 reads for them, __libc_single_threaded,
// is also what libstdc++ reads in code inlined into the program (shared_ptr
// counts), and that code *can* be preempted. So ptshim tells the truth, as
// glibc's own pthread_create does: the byte is 0 from the first thread on.
// libstdc++ then uses atomic read-modify-write instructions, which a signal
// cannot split; malloc takes its arena lock, which is never contended since
// no thread is ever suspended inside malloc. stdio's internal locks stay off
// (only glibc's pthread_create turns them on); flockfile is ptshim's own.
//
// The one exception to rule 2 is a thread blocked in the kernel in a read or
// write of an fd made inside libc (park_blocked_syscall below).
//
// The known hole in rule 2: program code called back from inside libc
// (qsort comparators, fopencookie functions, atfork and atexit handlers,
// dl_iterate_phdr callbacks) can be preempted while libc holds state for it.
//
// SWITCHING FROM A HANDLER. preempt_from_handler is the one way a signal
// handler switches threads: the tick's, and a seeded slice's end (the
// SIGTRAP handler, step.cc). The interrupted thread's context is then the
// signal frame on its own stack (Thread::in_tick_handler, handler_frame),
// which its sigreturn resumes once it is switched back to.
//
// SEEDED RUNS. The timer must not choose where a seeded run's threads stop:
// a tick never preempts (nor defers a switch for) a thread whose seeded
// slice is armed, the slice does; a tick that finds no trap taken since
// the one before in the same run segment gives the slice up
// (step_holds_tick). Every other timer preemption in a
// seeded run is counted as uncontrolled (Uncontrolled::kTimerPreemption).
//
// TIMERS. Two POSIX timers on CLOCK_MONOTONIC (a seeded run's slice timer
// on the kernel thread's CPU clock instead), delivering SIGALRM to this
// kernel thread only (SIGEV_THREAD_ID). POSIX timers, unlike setitimer, are
// not inherited across fork and are deleted by execve.
//   - the slice timer: periodic at the slice (SLICES below), armed when a
//     second thread becomes runnable, disarmed lazily by the first tick that
//     finds nothing else to run (so a hand-off between two threads costs no
//     timer calls);
//   - the wake timer: one-shot at the earliest deadline while a thread runs,
//     so sleepers wake on time even when the running thread never yields.
// Both are stopped before the kernel thread sleeps in the idle path.
// SA_RESTART restarts the program's interrupted restartable system calls; a
// tick can only interrupt one while another thread is runnable or sleeping.
//
// SLICES. The slice timer's period shrinks while one thread keeps the
// processor and the others only wait on it. Thread::preempted is set when a
// thread is preempted (preempt_switch: by a tick at a safe point, or at the
// safe point that takes a tick's deferred switch) and cleared when the
// thread next gives the processor back itself (block and yield in sched.cc).
// A thread is *hungry* when it is preempted with the flag still set: it used
// up a slice again without giving the processor back in between. At each
// preemption of a thread T (slice_after_preemption in slice.cc):
//   - T is hungry and the last hungry thread preempted before was T too: the
//     period halves, down to kShortestSliceNs (100 us) or the timeslice,
//     whichever is less. The other threads that ran since T's previous
//     preemption did a little and blocked or yielded: they wait on T's
//     progress, and T does not block on theirs but spins (on a counter other
//     threads bump, an I/O thread hand-off, an adaptive mutex, a back-off
//     loop), so that every hand-off to them costs it a whole slice.
//   - T is hungry and another hungry thread was preempted since T's previous
//     preemption: the full timeslice. Threads that take turns using up their
//     slices keep it: CPU-bound threads, for which shorter slices only add
//     switches (bench/cpu_bound loses about 10% at 200 us slices), and also
//     two threads that both spin waiting for each other, which nothing the
//     scheduler sees tells apart from them (redis's main thread and its I/O
//     threads, which wait for work in a loop before they take a mutex).
//   - T is not hungry: the full timeslice if T was the last hungry thread (it
//     blocked or yielded since: its slices are back up); otherwise no change,
//     since one preemption of a thread that runs briefly says nothing: a late
//     tick (timer overruns on a busy host) lands on the thread the spinner
//     waits on just after the switch to it, and forgetting the short period
//     there would cost the spinner the whole way down again.
// The period changes only at a preemption (preempt_switch), and the timer is
// reprogrammed only when it changed. A block or a yield costs one byte store
// (Thread::preempted) and no timer call, so hand-offs and yields cost what
// they did; the period a spinner left short therefore stays so until the next
// preemption, and the next thread to use up a slice after it stopped may get
// one short slice.
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "core/diag/diag.h"
#include "core/io/io.h"
#include "core/signal/signal.h"
#include "core/thread/thread.h"

namespace ptshim {

bool on_signal_stack() {
  stack_t ss;
  if (arch::raw_syscall(SYS_sigaltstack, 0, reinterpret_cast<long>(&ss)) != 0) return false;
  return (ss.ss_flags & SS_ONSTACK) != 0;
}

namespace {

// ---- timers ---------------------------------------------------------------------
// Recorded in each timer's sigev_value, but a tick is recognised by its
// si_timerid alone: a program's own SIGALRM timer may carry any value.
enum TimerTag { kSliceTag = 1, kWakeTag = 2 };
bool g_enabled;
int g_slice_timer = -1;
int g_wake_timer = -1;
bool g_slice_armed;
uint64_t g_wake_armed_ns;  // 0: not armed

uint64_t g_slice_ns;  // the slice timer's period (SLICES above)

int create_timer(int tag, clockid_t clock) {
  sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGALRM;
  sev.sigev_value.sival_int = tag;
  sev._sigev_un._tid = static_cast<pid_t>(arch::raw_syscall(SYS_gettid));
  int id = -1;
  if (arch::raw_syscall(SYS_timer_create, clock, reinterpret_cast<long>(&sev),
                        reinterpret_cast<long>(&id)) != 0) {
    fatal("ptshim: cannot create the preemption timer (timer_create failed)");
  }
  return id;
}

void set_timer(int id, int flags, uint64_t value_ns, uint64_t interval_ns) {
  itimerspec spec{timespec_from_ns(interval_ns), timespec_from_ns(value_ns)};
  arch::raw_syscall(SYS_timer_settime, id, flags, reinterpret_cast<long>(&spec), 0);
}

void disarm_slice_timer() {
  if (!g_slice_armed) return;
  set_timer(g_slice_timer, 0, 0, 0);
  g_slice_armed = false;
}

// A new period takes effect from now: the next tick is one slice away.
void set_slice(uint64_t slice_ns) {
  if (slice_ns == g_slice_ns) return;
  g_slice_ns = slice_ns;
  if (g_slice_armed) set_timer(g_slice_timer, 0, slice_ns, slice_ns);
}

void disarm_wake_timer() {
  if (g_wake_armed_ns == 0) return;
  set_timer(g_wake_timer, 0, 0, 0);
  g_wake_armed_ns = 0;
}

// ---- virtual time's liveness ------------------------------------------------------
// Under virtual time no real timer waits for a deadline: deadlines pass when
// the virtual clock does. The wake timer is then the liveness timer,
// periodic at the timeslice while any thread sleeps with a deadline (armed
// with g_wake_armed_ns = 1). A thread that runs on without giving the
// processor up (no block, no exit: g_blocks) and without reading a clock
// (the virtual clock stays still) for a whole period while others sleep
// would otherwise keep them asleep for ever: that tick moves the clock to
// the earliest deadline, charged to the running thread (it ran meanwhile).
// Where the tick landed is timing's choice, so each such jump is counted as
// not controlled (Uncontrolled::kTimerTimeJump).
uint64_t g_liveness_blocks;  // g_blocks at the last liveness tick (or arming)
uint64_t g_liveness_clock;   // the virtual clock then
int g_liveness_stuck_ticks;  // liveness ticks in a row that found no progress

void note_liveness_progress() {
  g_liveness_blocks = g_blocks;
  g_liveness_clock = g_virtual_clock.now_ns;
}

void arm_liveness_timer() {
  if (g_wake_armed_ns != 0) return;
  uint64_t period = options().timeslice_ns;
  set_timer(g_wake_timer, 0, period, period);
  g_wake_armed_ns = 1;
  note_liveness_progress();
}

// At a tick outside the core (the deadline heap is consistent).
void liveness_tick(bool from_wake_timer) {
  if (!deadline_any()) {
    disarm_wake_timer();
    return;
  }
  if (!from_wake_timer) return;
  // Two periods without progress, not one: within two the slice timer has
  // preempted the spinner at least once, so a runnable thread that had not
  // yet started its own wait (a sleeper just created) has started it, and
  // does not find the clock moved on under it.
  bool stuck = g_liveness_blocks == g_blocks && g_liveness_clock == g_virtual_clock.now_ns;
  g_liveness_stuck_ticks = stuck ? g_liveness_stuck_ticks + 1 : 0;
  if (g_liveness_stuck_ticks >= 2 && virtual_deadline_reachable(deadline_earliest_ns())) {
    g_liveness_stuck_ticks = 0;
    virtual_time_advance_to(deadline_earliest_ns(), false);
    schedule_note_uncontrolled(Uncontrolled::kTimerTimeJump);
  }
  note_liveness_progress();
}

// While this handler runs, the kernel's mask is the interrupted one plus
// SIGALRM; sigreturn restores the interrupted one. Noting both keeps a switch
// made in here (or in the program's SIGALRM handler) from passing SIGALRM's
// blocking on to the next thread.
// (A program SIGALRM can land on a kernel thread ptshim does not run, whose
// mask is not the one tracked.)
class HandlerMask {
 public:
  explicit HandlerMask(const void* ucontext)
      : ours_(tls_on_scheduler_thread), interrupted_(arch::interrupted_signal_mask(ucontext)) {
    if (ours_) signal_mask_note_kernel(interrupted_ | (uint64_t{1} << (SIGALRM - 1)));
  }
  ~HandlerMask() {
    if (ours_) signal_mask_note_kernel(interrupted_);
  }
  HandlerMask(const HandlerMask&) = delete;
  HandlerMask& operator=(const HandlerMask&) = delete;

 private:
  bool ours_;
  uint64_t interrupted_;
};

// The number of the interruptible system call under way (0: none).
volatile long g_interruptible_number;

void end_interruptible_syscall(void* ucontext) {
  long number, args[4];
  if (arch::interrupted_syscall(ucontext, &number, args) && number == g_interruptible_number) {
    arch::skip_interrupted_syscall(ucontext, -EINTR);
  }
}

// Asynchronous cancellation, as glibc's SIGCANCEL handler does it: the
// unwind starts in this handler and crosses the signal frame (the restorer's
// CFI marks it as one, so the unwinder looks up the interrupted frame at its
// exact pc, even at a function's first instruction) into the interrupted
// code, running its cleanup handlers and destructors. The handler never
// returns, so the mask sigreturn would restore is restored here first.
[[noreturn]] void cancel_from_tick(const void* ucontext) {
  uint64_t interrupted = arch::interrupted_signal_mask(ucontext);
  arch::raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&interrupted), 0,
                    sizeof interrupted);
  signal_mask_note_kernel(interrupted);
  act_on_cancellation();
  __builtin_unreachable();  // it was due: the thread unwinds
}

// A preemption the timer chose: where it lands is timing's choice, which a
// seeded run cannot replay.
void note_timer_preemption() {
  if (options().seeded) schedule_note_uncontrolled(Uncontrolled::kTimerPreemption);
}

// The tick's work inside the core (preempt_from_handler).
// Which timer this tick is, for virtual time's liveness rule.
bool g_tick_from_wake_timer;

void tick_in_core(void* ucontext) {
  syscall_trap_on_tick(ucontext);
  if (g_virtual_clock.on) liveness_tick(g_tick_from_wake_timer);
  cputime_on_tick();
  expire_deadlines();
  // A sleeper of a higher priority that just woke (or one woken before,
  // whose switch still waits) preempts whatever the slice says.
  uint8_t wanted = g_deferred.switch_wanted;
  bool slice_given_up = false;  // a seeded slice this tick forfeited: uncontrolled too
  if (!g_policy->any_runnable()) {
    // A thread with an asynchronous cancellation due keeps the ticks coming
    // until one lands in its safe code.
    if (!io_waiters_exist() && !cancel_async_due(current())) disarm_slice_timer();
    preempt_sync_timers();
  } else if (__builtin_expect(g_step_on, 0) && step_holds_tick(ucontext, &slice_given_up)) {
    // A seeded slice is armed: it preempts the thread, at its instruction.
  } else if (wanted != kSwitchPriority && !g_policy->switch_at(SchedPoint::kTick)) {
    // The policy lets the thread run on.
  } else if (current()->file_locks_held == 0 && pc_is_safe(arch::interrupted_pc(ucontext)) &&
             !on_signal_stack()) {
    if (__builtin_expect(g_observe, 0)) observe_safe_point();
    g_deferred.switch_wanted = 0;
    note_timer_preemption();
    slice_given_up = false;  // counted
    if (wanted == kSwitchPriority) {
      yield_to_higher_priority();
    } else {
      preempt_switch();
    }
  } else if (!io_park_interrupted_call(ucontext)) {
    if (wanted == 0) {
      g_deferred.switch_wanted = kSwitchTick;
      if (__builtin_expect(g_observe, 0)) observe_deferred();
    }
  }
  if (slice_given_up) note_timer_preemption();
}

void on_timer_signal(int sig, siginfo_t* info, void* ucontext) {
  HandlerMask handler_mask(ucontext);
  // Before preempt_enable (and in a fork child) both ids are -1, which no
  // kernel timer has.
  bool ours = info->si_code == SI_TIMER &&
              (info->si_timerid == g_slice_timer || info->si_timerid == g_wake_timer);
  if (!ours) {
    signal_forward_program_signal(sig, info, ucontext);
    return;
  }
  if (g_in_core) {
    int saved_errno = errno;
    if (g_deferred.switch_wanted == 0) {
      g_deferred.switch_wanted = kSwitchTick;
      if (__builtin_expect(g_observe, 0)) observe_deferred();
    }
    if (__builtin_expect(g_interruptible_number != 0, 0)) end_interruptible_syscall(ucontext);
    errno = saved_errno;
    return;
  }
  g_tick_from_wake_timer = info->si_timerid == g_wake_timer;
  preempt_from_handler(ucontext, tick_in_core);
}

}  // namespace

void preempt_install_handler() {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_timer_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;  // runs on the thread's own stack: it switches
  sigemptyset(&sa.sa_mask);
  if (__sigaction(SIGALRM, &sa, nullptr) != 0) fatal("ptshim: cannot install the SIGALRM handler");
}

void preempt_enable() {
  if (g_enabled || options().timeslice_ns == 0) return;
  rebuild_code_ranges();
  // A seeded run's slices are the kernel thread's CPU time: a host that
  // leaves the process waiting makes no ticks, so the timer's backstop
  // comes where the program's own work put it, as far as that can be.
  g_slice_timer =
      create_timer(kSliceTag, options().seeded ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC);
  // Under virtual time the wake timer only keeps a spinner from starving the
  // sleepers (liveness_tick): the CPU time it spends, too.
  g_wake_timer =
      create_timer(kWakeTag, g_virtual_clock.on ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC);
  g_slice_armed = false;
  g_wake_armed_ns = 0;
  g_slice_ns = options().timeslice_ns;
  slice_reset();
  g_enabled = true;
}

void preempt_from_handler(void* ucontext, void (*body)(void* ucontext)) {
  int saved_errno = errno;
  g_in_core = 1;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  Thread* self = current();  // whatever runs meanwhile, the handler ends on it
  self->in_tick_handler = true;
  self->handler_frame = ucontext;
  if (stack_overflowed(current(), arch::interrupted_sp(ucontext)) && !on_signal_stack()) {
    report_unguarded_overflow(current(), ucontext);
  }
  body(ucontext);
  // The thread this handler returns to (switched in, or unparked) goes back
  // to program code without a safe point: a deferred dump is taken here,
  // and its signals are raised (core/signal) once the core is left.
  if (g_deferred.dump) take_deferred_dump();
  // The thread this handler returns to (the one whose stack this is, after
  // any switch) may have an asynchronous cancellation due: acted on only
  // where a switch could have suspended it, program code.
  bool cancel_now = cancel_async_due(current()) && pc_is_safe(arch::interrupted_pc(ucontext)) &&
                    !on_signal_stack();
  self->in_tick_handler = false;
  self->handler_frame = nullptr;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  g_in_core = 0;
  if (g_deferred.signals || g_deferred.arrived) deliver_pending_signals();
  errno = saved_errno;
  if (__builtin_expect(cancel_now, 0)) cancel_from_tick(ucontext);
}

void preempt_switch(SchedPoint point) {
  Thread* self = current();
  set_slice(slice_after_preemption(self, g_slice_ns, options().timeslice_ns));
  yield_preempted(point);
  // Back on the processor. The switch in yield() cleared the flag, but that
  // switch was not the thread's own.
  self->preempted = true;
}

void preempt_sync_timers() {
  if (!g_enabled) return;
  // Ticks also keep coming while threads wait for I/O: they poll for it.
  // Re-armed at the period it had: the thread that set it may still run.
  if (!g_slice_armed && (g_policy->any_runnable() || io_waiters_exist())) {
    set_timer(g_slice_timer, 0, g_slice_ns, g_slice_ns);
    g_slice_armed = true;
  }
  if (!deadline_any()) return;
  if (__builtin_expect(g_virtual_clock.on, 0)) {
    arm_liveness_timer();
    return;
  }
  uint64_t earliest = deadline_earliest_ns();
  // A wake timer set for a moment already past has fired or is firing.
  bool armed = g_wake_armed_ns != 0 && g_wake_armed_ns > monotonic_now_ns();
  if (!armed || earliest < g_wake_armed_ns) {
    set_timer(g_wake_timer, TIMER_ABSTIME, earliest, 0);
    g_wake_armed_ns = earliest;
  }
}

long preempt_interruptible_syscall(long number, long a0, long a1, long a2, long a3) {
  g_interruptible_number = number;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  long r = arch::raw_syscall(number, a0, a1, a2, a3);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  g_interruptible_number = 0;
  return r;
}

bool lone_thread_may_block() {
  if (active_thread_count() != 1) return false;
  preempt_before_idle();
  return true;
}

void preempt_before_idle() {
  if (!g_enabled) return;
  disarm_slice_timer();
  disarm_wake_timer();
}

void preempt_after_fork_in_child() {
  // The parent's timers do not exist here; the child starts cooperative and
  // single-threaded, and preempt_enable() runs again if it creates threads.
  g_enabled = false;
  g_slice_timer = g_wake_timer = -1;
  g_slice_armed = false;
  g_wake_armed_ns = 0;
  slice_reset();
}

}  // namespace ptshim
