// core/sched: user threads as the scheduler sees them, wait queues, the core
// section, blocking and waking, deadlines, preemption and the scheduling
// policy. Every other core subsystem is built on this header.
//
// INVARIANTS (docs/design.md, "Scheduler"):
// - One kernel thread runs every user thread. Core state is touched only with
//   g_in_core == 1 — by a shim call on behalf of the running thread, or by the
//   SIGALRM handler when it interrupted code outside the core — so it needs
//   no locks.
// - current() is the only thread in state kRunning. Every other live thread
//   is kRunnable (held by the policy's run queue), kBlocked (in at most one
//   wait queue and/or the deadline heap) or kExited.
// - Every choice of which thread runs next, and which waiter a wake takes, is
//   the policy's (SchedPolicy); the rest of the core never reads the run
//   queue.
#pragma once

#include <sched.h>

#include <cstddef>
#include <cstdint>

#include "arch/arch.h"
#include "core/base/base.h"

struct pollfd;
union sigval;

namespace ptshim {

struct Thread;

// An intrusive FIFO of threads, embedded in sync objects. All-zero is an
// empty queue, so objects made by static initialisers need no set-up.
struct WaitQueue {
  Thread* head;
  Thread* tail;
};
static_assert(sizeof(WaitQueue) == 16);

enum class ThreadState : uint8_t {
  kFree,      // slot unused
  kRunning,   // the current thread
  kRunnable,  // in the run queue
  kBlocked,   // in a wait queue and/or the deadline heap
  kExited,    // finished; waiting to be joined (or reaped if detached)
};

// What a blocked thread waits for; reports print it.
enum class WaitKind : uint8_t {
  kNone,
  kMutex,
  kCond,
  kJoin,
  kOnce,
  kSleep,
  kBarrier,
  kRwRead,
  kRwWrite,
  kSemaphore,
  kSpin,
  kIo,
  kFutex,
  kTimer,  // ptshim's timer notifier, until the next expiration (core/thread/timer.cc)
  kChild,  // wait4, waitid: a child's change of state (core/signal/child.cc)
};

// kInterrupted: a cancellation request woke a thread blocked at a
// cancellation point (it gave up its wait: no unit, no lock was handed to it).
// kSignaled: a signal for this thread with a program handler woke it (no
// unit, no lock was handed to it either); the handler has run by the time
// block() returns, and the caller resumes its wait or fails with EINTR, as
// the kernel's call would (core/signal).
// (block() tests `>= kInterrupted` for the last two: keep them last.)
enum class WakeReason : uint8_t { kWoken, kTimedOut, kInterrupted, kSignaled };

inline constexpr int kKeysMax = 1024;  // PTHREAD_KEYS_MAX: the program's
inline constexpr int kKeyBlock = 32;   // values per key block
// Keys made for ptshim itself (libunwind's) lie above the program's, so the
// program has all PTHREAD_KEYS_MAX it would have without ptshim.
inline constexpr int kKeysReserved = kKeyBlock;
inline constexpr int kKeyIndices = kKeysMax + kKeysReserved;
inline constexpr int kDestructorIterations = 4;  // PTHREAD_DESTRUCTOR_ITERATIONS

// A user thread's CPU time (cputime.cc). The switch charges the outgoing
// thread the cycles it ran; cycles become nanoseconds of the kernel thread's
// CPU time only when a clock is read or a tick comes (settlement).
struct CpuTime {
  // In the list of threads charged since the last settlement (a ring through
  // g_cpu_charged); null when not in it.
  CpuTime* next;
  CpuTime* prev;
  uint64_t cycles;  // charged since the last settlement
  uint64_t ns;      // settled CPU time
};

struct KeySlot {
  void* value;
  uint64_t seq;  // the key's sequence number when the value was stored
};

// A lock a thread holds (core/sync/held.cc): the object, and the program's
// call site that took it, with the kind of hold in the site's top byte (a
// user-space address never reaches it; 0 is a mutex, so the fast path
// stores the site as it is).
struct HeldLock {
  const void* object;
  uintptr_t site_and_kind;
};
inline constexpr uint32_t kHeldMax = 8;  // held locks a thread lists; the rest are counted

// One user thread. Each group of fields belongs to the subsystem named
// beside it; only that subsystem writes them.
struct Thread {
  arch::Context context;
  uint64_t number;  // 1 for the process's original thread, then 2, 3, ...
  ThreadState state;
  WaitKind wait_kind;
  WakeReason wake_reason;
  bool detached;
  bool is_main;  // runs on the process stack
  // Scheduler: the thread was preempted and has not blocked or yielded
  // since (preempt.cc, "SLICES": it sets the slice timer's period).
  bool preempted;
  // Scheduler: the priority level it is scheduled at, 0 (SCHED_OTHER, BATCH,
  // IDLE) to 99: the higher of base_level and boost_level (priority.cc).
  uint8_t level;
  bool sched_fifo;  // SCHED_FIFO: a tick does not move it behind its equals
  // Scheduler: switched out from inside the tick's handler (or a seeded
  // slice's, step.cc), to which it returns (its stack holds the signal's
  // frame: handler_frame, the ucontext its sigreturn resumes).
  bool in_tick_handler;

  void* handler_frame;

  // Scheduler: run queue or wait queue membership (one at a time).
  Thread* next;
  Thread* prev;
  WaitQueue* queue;         // the wait queue this thread is on, if any
  const void* wait_object;  // what it waits for (mutex, condvar, thread, ...)

  // Scheduler: the CPU time this thread used (cputime.cc).
  CpuTime cpu;

  // Scheduler: deadline heap membership: index + 1, 0 when not in the heap.
  uint64_t deadline_ns;  // CLOCK_MONOTONIC
  uint32_t heap_slot;
  // Scheduler: the seeded policies' state: the index in their RunSet while
  // runnable, and PCT's priority (higher runs first).
  uint32_t run_slot;
  uint64_t pct_priority;
  // The timer's backstop took the processor from it (it spins without a
  // library call) and it has reached no scheduling point since: random
  // runs the others first.
  bool seeded_spinner;

  // Scheduler: its own priority level (its policy's and priority's), and the
  // level core/sync raises it to (priority-protect ceilings it holds, and the
  // waiters of its priority-inherit mutexes).
  uint8_t base_level;
  uint8_t boost_level;

  // Scheduler: the observers' (observe.cc). The cycle counter when it last
  // blocked, with PTSHIM_STATS; with PTSHIM_TRACE, the trace clock when it
  // last began to run and to wait, the holder of what it waits for (a thread
  // number; 0: none).
  uint64_t stats_blocked_at;
  uint64_t trace_running_since;
  uint64_t trace_waiting_since;
  uint64_t trace_holder;

  int saved_errno;
  uint32_t file_locks_held;  // core/sync: flockfile depth; not preempted while > 0
  // core/sync: the bytes of held_slots[1..] (below) in use, sizeof(HeldLock)
  // per lock (bytes, so the fast paths index without a multiply), and the
  // holds past kHeldMax.
  uint32_t held_bytes;
  uint32_t held_overflow;
  // Shim entry points of the sync calls, joins and exits: the program's call
  // (its return address) and the function, for lock sites and misuse reports.
  uintptr_t call_site;
  const char* call_function;

  // core/thread: the stack, [stack_lo, stack_lo + stack_size), guard below it.
  void* map_base;  // what to munmap, or null for a user-provided stack
  size_t map_size;
  void* stack_lo;
  size_t stack_size;
  size_t guard_size;

  // core/thread: creation, result, scheduling attributes.
  void* (*start_routine)(void*);
  int (*c11_start_routine)(void*);  // thrd_create: the result is an int
  // A SIGEV_THREAD timer's notification thread runs this with the sigval
  // held in start_arg's bits (core/thread/timer.cc).
  void (*notify_routine)(union sigval);
  void* start_arg;
  char name[16];         // pthread_setname_np; empty: the start routine's symbol
  int32_t sched_policy;  // as set; the scheduler's base_level follows them
  int32_t sched_priority;
  cpu_set_t* affinity;      // pthread_setaffinity_np's, recorded; null: never set
  uint64_t creator_number;  // the thread that called pthread_create
  size_t creator_slot;      // its slot (thread_in_slot), to name it while it lives
  uintptr_t created_at;     // its return address in pthread_create's caller
  // The first return address of the creating call stack in the program's own
  // code (core/diag's creation_site): where a std::thread was constructed,
  // not libstdc++'s call; created_at when no frame is the program's.
  uintptr_t creation_site;
  // core/diag (callable_record, at creation): a std::thread / std::jthread /
  // std::async thread's state object's vtable, which names the program's
  // callable, and the function a pointer callable holds (t1 of
  // std::thread(t1)); 0: not such a thread, no pointer.
  uintptr_t state_vtable;
  uintptr_t callable_code;
  void* result;
  Thread* joiner;

  // core/thread: pthread keys beyond the first block (keys_first, below):
  // kKeyIndices / kKeyBlock block pointers, allocated on demand, as are the blocks.
  KeySlot** keys_more;

  // core/thread: cancellation and unwinding.
  bool cancel_disabled;
  bool cancel_async;
  bool cancel_pending;
  bool at_cancel_point;    // blocked where a cancellation request wakes it
  bool unwinding;          // pthread_exit or cancellation under way
  void* cleanup_jmp_bufs;  // innermost pthread_cleanup_push buffer (C)
  void* cleanup_old;       // innermost _pthread_cleanup_push buffer (old ABI)
  void* exit_value;
  uintptr_t exit_called_at;  // the program's call of pthread_exit/thrd_exit; 0: cancelled
  alignas(16) unsigned char unwind_exception[32];  // a struct _Unwind_Exception

  // core/signal: bit sig - 1.
  uint64_t pending_signals;  // for this thread, held by ptshim until it takes them
  uint64_t pending_info;     // of those, the ones whose siginfo core/signal kept
  uint64_t signal_mask;      // blocked signals
  uint64_t sigwait_set;      // while in sigwait*: what it waits for (0: not waiting)
  void* sigwait_info;        // while in sigwait*: its siginfo_t, for a signal handed to it
  int32_t sigwait_taken;     // the signal handed to its sigwait (0: none yet)
  uint32_t handlers_run;     // program handlers run on this thread (sigsuspend counts them)
  bool handler_no_restart;   // a handler without SA_RESTART ran in its last interrupted wait
  bool in_sigsuspend;        // waits for any signal: never a deadlock

  // core/io: the pollfds this thread waits for (on its stack), or the futex
  // word it is parked on.
  struct pollfd* io_fds;
  size_t io_count;
  const uint32_t* futex_word;
  uint32_t futex_value;
  uint32_t futex_bitset;  // which FUTEX_WAKE_BITSET wakes reach it
  bool futex_private;     // only this process can change the word (a private robust mutex's)

  // core/thread: the thread control block; null while all threads share one.
  void* tls_area;
  bool tls_reused;

  // core/thread: all live threads, for reports and fork.
  Thread* all_next;
  Thread* all_prev;
  // core/thread: one of ptshim's own threads (thread_create_own) while it
  // has nothing to do; not counted by active_thread_count().
  bool idle_own;

  // core/thread: the first block of pthread key values. Last, because a slot
  // is reused without clearing it: a thread leaves every value null when it
  // exits (key_run_destructors), so only the fields above are zeroed.
  KeySlot keys_first[kKeyBlock];
  // core/sync: the locks it holds, oldest first, from held_slots[1]
  // (held_bytes says how many; not zeroed with the slot either).
  // held_slots[0] is never written, so it stays zero (the table's memory
  // comes zeroed): the unlock fast path's look below the first entry finds
  // no mutex there.
  HeldLock held_slots[kHeldMax + 1];
};

// ---- the core section (sched.cc) ------------------------------------------------------
// True on the kernel thread that runs the scheduler. Initial-exec TLS: one
// %fs-relative load on every shim entry. Any other kernel thread (made by a
// glibc-internal path ptshim does not interpose) sees false.
extern __thread bool tls_on_scheduler_thread __attribute__((tls_model("initial-exec")));
// tls_on_scheduler_thread, and the policy lets the lock fast paths run
// (below): one %fs-relative load decides both.
extern __thread bool tls_fast_paths_allowed __attribute__((tls_model("initial-exec")));
// tls_on_scheduler_thread, and no schedule is being recorded (g_recording):
// a shim entry then has nothing to do but enter the core (shim/shim.h).
extern __thread bool tls_shim_entry_plain __attribute__((tls_model("initial-exec")));
// Sets all three for the running user thread: at start-up, and first thing
// in every new thread (each has its own TLS block).
void mark_scheduler_thread();

// g_in_core is 1 while core state may be inconsistent or a switch is under
// way: from a shim function's entry to its exit, and while the preemption
// handler works. Every context switch happens with it at 1, so switching
// needs no save/restore of it; paths that call back into program code (start
// routines, once routines, key destructors) drop it around the call.
extern volatile int g_in_core;
// Set while a report (crash, overflow, thread dump, deadlock) is written:
// nothing may switch threads then, so a lock held by a suspended thread is
// passed over rather than waited for (core/diag).
extern volatile int g_reporting;

// Work that arrived while it could not be done, taken at the next safe point
// (leave_core, or a fast path's end). One byte per kind, each set and
// cleared by a plain store, so the SIGALRM handler never races a
// read-modify-write; `any` reads them all with one load (GCC defines reading
// another member of a union). Hot paths store a byte only when it changes: a
// byte store cannot be forwarded to the word load that follows it.
union DeferredWork {
  struct {
    volatile uint8_t switch_wanted;  // kSwitchTick or kSwitchPriority (below); 0: none
    volatile uint8_t signals;        // the running thread has signals it may now take
    volatile uint8_t dump;           // the dump signal arrived while the core was busy
    volatile uint8_t arrived;  // a program signal arrived while the core was busy (core/signal)
    volatile uint8_t step;     // a seeded slice starts counting as the thread leaves the core
  };
  volatile uint32_t first_four;  // what an arriving signal may change (core/io's idle wait)
  volatile uint64_t any;
};
static_assert(sizeof(DeferredWork) == sizeof(uint64_t));
extern DeferredWork g_deferred;
// What switch_wanted asks for: a tick found the running thread where it may
// not be suspended (it goes behind its equals), or a thread of a higher
// priority level became runnable (the running one stays ahead of its equals).
inline constexpr uint8_t kSwitchTick = 1;
inline constexpr uint8_t kSwitchPriority = 2;
inline bool work_deferred() { return g_deferred.any != 0; }
// Does the deferred work; enters and leaves the core itself.
void take_deferred_work();

inline void enter_core() {
  g_in_core = 1;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}
// Leaving the core is a safe point: deferred work is taken here. Always
// inlined: it ends every shim call, and LTO would otherwise make it a call
// once enough callers exist (measured: +10 instructions per condvar wait).
__attribute__((always_inline)) inline void leave_core() {
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  g_in_core = 0;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (__builtin_expect(work_deferred(), 0)) take_deferred_work();
}

// ---- the scheduling policy (policy.cc, policy_*.cc) ---------------------------------------
// Where the running thread could go on but a policy may prefer a switch.
// (A yield always offers the processor: POSIX puts the caller behind the
// others; the policy's take_next still chooses who runs.)
enum class SchedPoint : uint8_t {
  kTick,               // the slice timer fired at a safe point
  kInstruction,        // a seeded slice of program instructions ran out (step.cc)
  kUncontendedLock,    // a wait that did not wait: a lock (mutex, rwlock, spin, semaphore)
                       // taken at once, a join of a finished thread, a once already done
  kUncontendedUnlock,  // a lock released with no waiter to hand it to
  kWake,               // a call that wakes waiters, or could have (signal, post, unlock)
  kCreate,             // a thread was created, and may run before its creator goes on
  kCount,
};
// What reports and the trace call each point: "preempted at <this>".
inline const char* sched_point_name(SchedPoint p) {
  switch (p) {
    case SchedPoint::kTick:
      return "the timer";
    case SchedPoint::kInstruction:
      return "a seeded instruction slice";
    case SchedPoint::kUncontendedLock:
      return "a lock, join or once that did not wait";
    case SchedPoint::kUncontendedUnlock:
      return "an unlock";
    case SchedPoint::kWake:
      return "a wake-up";
    case SchedPoint::kCreate:
      return "a thread creation";
    case SchedPoint::kCount:
      break;
  }
  return "a scheduling point";
}
// Every decision of which thread runs; the mechanism (switching, queues,
// deadlines, timers) is the scheduler's. The run queue is the policy's own:
// it links runnable threads through Thread::next/prev.
struct SchedPolicy {
  const char* name;
  // t became runnable (new, woken, yielded, preempted); `front`: ahead of the
  // threads it ranks equal with. True: t should run before the running
  // thread, which the scheduler then preempts at the next safe point.
  bool (*make_runnable)(Thread* t, bool front);
  Thread* (*take_next)();  // removes and returns the next to run; null: none
  bool (*any_runnable)();
  Thread* (*choose_waiter)(const WaitQueue* q);  // which waiter a wake-one takes (q not empty)
  bool (*switch_at)(SchedPoint point);           // switch away from the running thread?
  // t's Thread::level changed from old_level (t running, runnable, blocked or
  // new). True: a runnable thread should now run before the running one.
  bool (*level_changed)(Thread* t, int old_level);
  void (*after_fork_in_child)();  // only the forking thread is left
  // Asked at every SchedPoint: the lock fast paths then stay off, since
  // they never enter the core.
  bool sees_every_point;
};
extern const SchedPolicy* g_policy;     // chosen once, by sched_select_policy
extern bool g_policy_sees_every_point;  // g_policy->sees_every_point, one load away
// A seeded policy, or PTSHIM_SPURIOUS_WAKEUPS: core/sync takes the paths
// that serve them (points inside composite steps, spurious wake-ups).
extern bool g_sync_testing;
extern const SchedPolicy kFifoPolicy;    // the default: round robin within priority levels
extern const SchedPolicy kRandomPolicy;  // seeded: a uniform draw at every point (policy_random.cc)
extern const SchedPolicy kPctPolicy;  // seeded: PCT's priorities and change points (policy_pct.cc)
void sched_select_policy(const SchedPolicy* policy);
// A scheduling point outside the scheduler (in the core section): the
// policy may switch threads here.
void scheduling_point_slow(SchedPoint point);

// The runnable threads of the seeded policies, in an array for uniform
// draws: O(1) to add, to remove and to pick the i-th (Thread::run_slot).
// Its order depends only on the order of adds and removes, so a seed picks
// the same threads from run to run.
struct RunSet {
  Thread** items;
  size_t count;
  size_t capacity;
};
void run_set_add(RunSet* set, Thread* t);
void run_set_remove(RunSet* set, Thread* t);
Thread* run_set_take(RunSet* set, size_t i);  // removes and returns the i-th
// At a tick: true only when the running thread has had a whole slice
// without a decision (seeded.cc: the timer's backstop).
bool seeded_tick_preempts();
inline void scheduling_point(SchedPoint point) {
  if (__builtin_expect(g_policy_sees_every_point, 0)) scheduling_point_slow(point);
}
// Inside a composite step that must look atomic (a condvar wait's release
// of its mutex before it joins the queue) the points of its parts are none.
extern int g_no_scheduling_points;
class NoSchedulingPoint {
 public:
  NoSchedulingPoint() { ++g_no_scheduling_points; }
  ~NoSchedulingPoint() { --g_no_scheduling_points; }
  NoSchedulingPoint(const NoSchedulingPoint&) = delete;
  NoSchedulingPoint& operator=(const NoSchedulingPoint&) = delete;
};

// ---- the schedule's one generator (random.cc) -----------------------------------------
// Every random choice of a seeded run (the policy's, the seeded slices',
// spurious wake-ups') is drawn from this generator, seeded once from
// options().seed. Nothing else draws from it and nothing else chooses at
// random, so the same program, input, options and seed make the same
// choices (docs/design.md, "Seeded schedules").
void sched_random_seed(uint64_t seed);
uint64_t sched_random();
uint64_t sched_random_below(uint64_t bound);  // uniform in [0, bound); bound > 0

// ---- seeded slices (step.cc) ---------------------------------------------------------
// A seeded run preempts threads at exact instructions of their own code,
// drawn from the generator at every run segment's start and replayed by
// counting instructions with the trap flag and a hardware breakpoint (the
// top of step.cc). g_step_on: a seeded run, in which every switch_to and
// scheduling point ends the running segment and starts the next.
extern bool g_step_on;
void step_install();  // at start-up, seeded: ptshim's SIGTRAP handler, chained to the program's
void step_segment_end_slow();
// `t` starts a segment: switched in, or runs on from a scheduling point.
void step_segment_begin_slow(Thread* t);
void step_segment_switch_slow(Thread* next);
// A scheduling point (switch_to, scheduling_point_slow): the running
// segment ends, and `next` (the running thread, if it runs on) starts one.
inline void step_segment_switch(Thread* next) {
  if (__builtin_expect(g_step_on, 0)) step_segment_switch_slow(next);
}
void step_thread_starts();  // a new thread's first switch-in: its slice starts at its routine
void step_leave_core();  // g_deferred.step: the thread leaves the core, its slice starts counting
// The running thread's start routine is to be called with the trap flag
// (arch::call_with_trap_flag): its first segment has a slice.
bool step_at_thread_start();
// A tick at `ucontext`: true while the running thread's slice is armed (the
// slice, not the timer, preempts it); a tick that finds the same segment
// with no trap taken since the last one forfeits the slice (*gave_up) and
// lets the tick act.
bool step_holds_tick(void* ucontext, bool* gave_up);
bool step_slice_armed();  // the running thread has a slice (a deferred tick leaves it alone)
void step_after_fork_in_child();

// ---- the schedule's record (decision.cc) -----------------------------------------------
// In a seeded run (or with PTSHIM_SCHEDULE_DIGEST=1) every choice a policy
// makes is folded into a digest and counted, and the last switches are kept
// for reports (core/diag/schedule_text.cc prints them). The digest holds
// thread numbers and kinds of choice only, never an address or a time, so
// one seed gives one digest.
extern bool g_recording;
// The shim function running and the program's call into it, set at shim
// entry while recording (shim/shim.h): where a switch happened.
extern const char* g_shim_function;
extern uintptr_t g_shim_site;
void schedule_recording_start();  // at start-up, when options() ask for it
// One choice: `kind` (a small number per kind of choice) and what was
// chosen (a thread number, or 0/1 for a yes-or-no).
void decision_note(uint32_t kind, uint64_t chosen);
uint64_t decision_count();
// Why a thread stopped running: it blocked (on Thread::wait_kind), yielded,
// exited, was preempted at a SchedPoint, or made way for a higher priority.
enum class SwitchWhy : uint8_t { kBlock, kYield, kExit, kPriority, kPreempt };
struct SwitchRecord {
  uint64_t decision;  // decision_count() when it happened
  uint64_t from, to;  // thread numbers
  SwitchWhy why;
  SchedPoint point;  // kPreempt: where
  WaitKind wait;     // kBlock: on what
  const char* function;
  uintptr_t site;
};
void switch_note(const Thread* from, const Thread* to, SwitchWhy why, SchedPoint point);
// The policy a recording run uses: `inner`'s choices, with every switch (and,
// for a policy that notes nothing itself, every choice) in the record.
const SchedPolicy* recorded_policy(const SchedPolicy* inner);
inline constexpr size_t kRecentSwitches = 20;
// The last switches, oldest first; returns how many (at most kRecentSwitches).
size_t recent_switches(SwitchRecord* out);
// A seeded policy's preemption of the running thread `from` in favour of
// `to` (it could have let `from` go on): counted from 1, and taken unless
// PTSHIM_PREEMPT_SKIP names its number; PTSHIM_PREEMPT_SHOW prints both
// threads' stacks first. A policy asks this before it preempts, and keeps
// `from` running when it says no: everything else it drew stays as drawn.
bool preemption_take(const Thread* from, const Thread* to);
uint64_t preemption_count();
uint64_t schedule_digest();
// What a seeded run cannot make the same from run to run, counted and named
// in the line printed at exit.
enum class Uncontrolled : uint8_t {
  kTimerPreemption,  // the timer preempted a thread: where it landed was timing's choice
  kOutsideSignal,    // a signal sent by another process (or the kernel)
  kOutsideIo,        // an I/O wait ended by the readiness of an outside file
  kRdtsc,            // the program read the cycle counter
  kRealTime,         // a deadline or clock read on real time (virtual time off)
  // the timer moved virtual time: a thread ran a whole real slice without a scheduling point
  kTimerTimeJump,
  kCount,
};
void schedule_note_uncontrolled(Uncontrolled what);
uint64_t uncontrolled_count(Uncontrolled what);
const char* uncontrolled_name(Uncontrolled what,
                              uint64_t count);  // "timer preemptions not replayable"
bool address_layout_random();                   // ASLR was on (personality), named in the line

// ---- scheduling (sched.cc, wait_queue.cc) ----------------------------------------------------
Thread* current();
// What current() returns, named for core/diag's debugger view, which gives
// its address out; everything else calls current().
extern Thread* g_current;
void set_initial_current(Thread* t);  // the first thread is current before anything runs
void after_first_switch_in();         // a new thread's first step (core/thread)
// Moves the caller behind the other runnable threads of its priority and
// runs the next; false when no other thread ran (none runnable ranks as high).
bool yield();
// The same, as a preemption at `point`: g_preempted_at says so until the
// switch (kCount otherwise), for the schedule's record and the statistics.
void yield_preempted(SchedPoint point);
extern SchedPoint g_preempted_at;
// Runs the higher-priority thread that became runnable, the caller staying
// ahead of its equals (kSwitchPriority).
void yield_to_higher_priority();
// Blocks the current thread on `queue` (may be null: a pure sleep) until
// woken or until `deadline_ns` (0: none) passes; `front` queues it first.
// Woken for a signal (kSignaled), it runs the handler before returning.
WakeReason block(WaitQueue* queue, WaitKind kind, const void* object, uint64_t deadline_ns,
                 bool front = false);
// Makes a blocked thread runnable (removes it from its queue and the heap).
void wake(Thread* t, WakeReason reason);
Thread* wake_one(WaitQueue* queue);  // the policy's choice of waiter; null if none
// The waiter wake_one would take: for objects that hand themselves to that
// waiter before waking it. Null when the queue is empty, or was emptied for
// holding threads that are not this process's (a private object in memory
// another process uses: see wait_queue_first).
Thread* next_waiter(WaitQueue* queue);
// The first waiter, checked to be this process's thread blocked on `queue`;
// otherwise the queue is emptied (one warning line) and null returned.
// Every walk of a queue starts here or at next_waiter.
Thread* wait_queue_first(WaitQueue* queue);
void wake_all(WaitQueue* queue);
// Waits keyed by an address, for objects too small to hold a queue (once
// controls, spinlocks): one shared queue, woken by key.
WakeReason block_keyed(WaitKind kind, const void* key, uint64_t deadline_ns);
bool wake_keyed(const void* key);  // true if it woke anyone
// A new thread; `front`: ahead of its equals.
void make_runnable(Thread* t, bool front = false);
// A thread at a cancellation point with a request it will act on. A wait
// that hands nothing over (a sleep, an I/O wait) returns kInterrupted at once
// for it instead of blocking: the request may have come while the thread was
// runnable between two waits of one call, and woke nothing.
inline bool cancel_due_at_point(const Thread* t);
// kTimedOut, or kInterrupted / kSignaled if a cancellation request or a
// signal's handler cut it short.
WakeReason sleep_until(uint64_t deadline_ns);
// Gives a thread blocked without a queue a new deadline (0: none), as if it
// had blocked with that one: for a wait whose end other threads move (the
// timer notifier's, core/thread/timer.cc). Cheaper than waking it to look.
void reschedule_blocked(Thread* t, uint64_t deadline_ns);
// Switches away from an exited thread for good.
[[noreturn]] void exit_current_and_schedule();
void scheduler_after_fork_in_child();

void wait_queue_push(WaitQueue* q, Thread* t);
void wait_queue_push_front(WaitQueue* q, Thread* t);
void wait_queue_remove(WaitQueue* q, Thread* t);

inline bool cancel_due_at_point(const Thread* t) {
  return __builtin_expect(t->cancel_pending, 0) && t->at_cancel_point && !t->cancel_disabled &&
         !t->unwinding;
}

// ---- priorities (priority.cc) ---------------------------------------------------------------
inline constexpr int kPriorityLevels = 100;  // 0, and the real-time priorities 1..99
// The level a policy and priority schedule at (0 for all but SCHED_FIFO and
// SCHED_RR).
int priority_level_of(int policy, int priority);
// t's own policy and priority (core/thread, when they are set).
void priority_set_base(Thread* t, int policy, int priority);
// The level core/sync raises t to (0: none).
void priority_set_boost(Thread* t, int level);
// sched_get_priority_min/max(SCHED_FIFO), asked once: the limits and the
// default of mutex priority ceilings, as glibc takes them.
int priority_fifo_min();
int priority_fifo_max();
// ---- CPU time per user thread (cputime.cc) ----------------------------------------------
// Each thread is charged the cycle-counter time from its switch-in to its
// switch-out, idle time excluded; a settlement reads the kernel thread's CPU
// time and shares what it gained since the last one among the threads
// charged meanwhile, in proportion to their cycles. So the threads' times
// add up to the kernel thread's, and each only grows. Until the program
// first asks for a thread's CPU clock the switch charges nothing (the cycle
// counter costs a third of a switch): ticks, blocks, exits and the idle
// path charge the running thread then (sampling).
extern CpuTime g_cpu_charged;  // the ring's head (never a thread's)
extern uint64_t g_cpu_stamp;   // the cycle counter at the last charge
extern uint64_t g_cpu_cycles;  // charged since the last settlement, exited threads' too
extern bool g_cpu_exact;       // switches charge (a thread CPU clock was asked for)
// What charges are counted in: the cycle counter; under virtual time, the
// virtual time that passed while some thread ran (CpuTime::cycles are then
// virtual nanoseconds, and ptshim never reads the cycle counter).
inline uint64_t cputime_stamp() {
  if (__builtin_expect(g_virtual_clock.on, 0)) return virtual_busy_ns();
  return arch::cycle_counter();
}
// Charges `t` the cycles since the last charge.
inline void cputime_charge(CpuTime* t) {
  uint64_t now = cputime_stamp();
  uint64_t ran = now - g_cpu_stamp;
  g_cpu_stamp = now;
  if (__builtin_expect(t->next == nullptr, 0)) {
    t->next = g_cpu_charged.next;
    t->prev = &g_cpu_charged;
    g_cpu_charged.next->prev = t;
    g_cpu_charged.next = t;
  }
  t->cycles += ran;
  g_cpu_cycles += ran;
}
// At every switch away from `t`, once g_cpu_exact.
inline void cputime_switch(CpuTime* t) {
  if (__builtin_expect(g_cpu_exact, 0)) cputime_charge(t);
}
// Before a thread blocks or exits: a sample, until g_cpu_exact (then the
// switch charges it). Yields and preemptions (a tick charged it) take none.
inline void cputime_sample(CpuTime* t) {
  if (!g_cpu_exact) cputime_charge(t);
}
void cputime_start(Thread* first);  // at start-up: the first thread has used all so far
void cputime_make_exact();          // a thread CPU clock is in use: switches charge from now
// The kernel thread sleeps for want of work: nobody is charged meanwhile.
void cputime_idle_begin();
void cputime_idle_end();
uint64_t cputime_ns(Thread* t);  // settles first
void cputime_on_tick();          // settles when more than the running thread was charged
void cputime_forget(Thread* t);  // its slot is freed
void cputime_after_fork_in_child(Thread* survivor);  // a new kernel thread, from 0
// The kernel thread's own CPU time (CPUCLOCK_SCHED): a system call.
uint64_t kernel_thread_cpu_ns();

// ---- virtual time's advance (sched.cc, preempt.cc; the clock is core/base's) -------------
// Threads that gave up the processor to wait (block, exit): a tick that finds
// it unchanged, and the virtual clock too, over a whole real slice moves the
// clock to the earliest deadline (preempt.cc).
extern uint64_t g_blocks;

// ---- deadlines (deadline.cc) -------------------------------------------------------------
void deadline_insert(Thread* t, uint64_t deadline_ns);
void deadline_remove(Thread* t);
bool deadline_any();
void deadline_reset();
uint64_t deadline_earliest_ns();
Thread* deadline_pop_expired(uint64_t now_ns);  // null when none
void expire_deadlines();  // wakes every thread whose deadline passed (sched.cc)

// ---- preemption (preempt.cc, safe_code.cc) -------------------------------------------------
void preempt_install_handler();  // at start-up: SIGALRM, chained to the program's action
void preempt_enable();           // the process became multi-threaded: create the timers
// Brings the timers in line with the run queue and the deadline heap; cheap
// when nothing changed. Called whenever either changes.
void preempt_sync_timers();
void preempt_before_idle();  // nothing runnable: the kernel thread will sleep
// Switches away from a running thread that could go on (a tick, or the safe
// point that takes a tick's deferred switch), first setting the slice timer's
// period by the rule in preempt.cc ("SLICES").
void preempt_switch(SchedPoint point = SchedPoint::kTick);  // `point`: for the schedule's record
// Switches threads from inside a signal handler, as the tick does: the
// thread the signal interrupted at `ucontext` (outside the core, at safe
// code) enters the core with that signal frame as its context
// (Thread::in_tick_handler, handler_frame), `body` decides and may switch
// away and back, and the handler then returns to program code: deferred
// dumps, signals and an asynchronous cancellation are taken on the way.
// Used by the tick and by a seeded slice's end (step.cc).
void preempt_from_handler(void* ucontext, void (*body)(void* ucontext));
// That rule (slice.cc): the period after a preemption of `t`, whose
// `preempted` flag still tells whether it was preempted before without a
// block or yield since, given the period now and the timeslice.
inline constexpr uint64_t kShortestSliceNs = 100'000;  // the floor, unless the timeslice is less
uint64_t slice_after_preemption(const Thread* t, uint64_t period_ns, uint64_t timeslice_ns);
void slice_reset();  // no thread was preempted yet (timers created, fork child)
// True when the caller is the only thread left: it may then block in the
// kernel itself. The timers are stopped first (they stay armed when threads
// exit, so that create/join cycles cost no timer calls): a stray tick would
// make the call fail with an EINTR the program never asked for.
bool lone_thread_may_block();
void preempt_after_fork_in_child();
bool on_signal_stack();  // the running code is on a sigaltstack
// A system call that may block in the kernel with nothing ptshim can wait on
// instead (the open of a FIFO until its other end is opened), made for the
// running thread inside the core: a tick that lands while it waits (or just
// before it) ends it with -EINTR instead of letting the kernel restart it,
// so the caller can let the others run and try again. Returns the raw result.
long preempt_interruptible_syscall(long number, long a0, long a1, long a2, long a3);
// Rule 2 of preempt.cc: code at `pc` may be suspended midway (safe_code.cc).
bool pc_is_safe(uintptr_t pc);
// In the code of a loaded object that rule 2 lets be suspended: unlike
// pc_is_safe, not anonymous memory (which a data word may point into).
bool pc_in_safe_object(uintptr_t pc);
void rebuild_code_ranges();  // the loaded objects changed (dlopen)

// ---- fast paths: shim steps that skip the core section ---------------------------------
// A step may run without enter_core() when (1) all its code is in libptshim,
// where the preemption handler never switches threads (rule 2 in
// preempt.cc), (2) it touches only fields the handler never writes: the
// handler only wakes timed-out waiters, removing them from wait queues, so
// reading a queue's head races with nothing worse than seeing a waiter that
// is gone (the step then takes the slow path), and (3) the policy does not
// want to see the step (SchedPolicy::sees_every_point). A tick meanwhile
// defers its switch; the step ends at a safe point, which takes it.
inline bool fast_path_allowed() { return __builtin_expect(tls_fast_paths_allowed, 1); }
// take_deferred_work, then `result`: tail-called, so a fast path needs no
// stack frame of its own for it.
int take_deferred_work_then(int result);
inline int fast_path_done(int result) {
  if (__builtin_expect(work_deferred(), 0)) return take_deferred_work_then(result);
  return result;
}

// ---- observers of the schedule (observe.cc): PTSHIM_STATS=1, PTSHIM_TRACE=FILE ----------------
// g_observe holds one bit per observer, set once at start-up (never with
// both options off): every hook site is one predicted branch on it, on a
// slow path, never on a fast path, and calls one cold dispatcher, which
// works out once what the observers share (why a thread left the
// processor, the fate of a deferred tick) and tells each observer on.
inline constexpr uint8_t kObserveStats = 1;  // stats.cc, printed at exit (stats_text.cc)
inline constexpr uint8_t kObserveTrace = 2;  // trace.cc, the timeline file
extern uint8_t g_observe;
// The hooks, each called behind `if (__builtin_expect(g_observe, 0))`, in
// switch_to (before it clears switch_wanted, and before it returns for a
// thread that runs on), yield_to_higher_priority, the tick's handler, the
// safe point, block(), thread_create and thread_exit.
// Cold and never inlined (LTO would): a hot caller then keeps the registers
// and code it has without them (measured: inlined, block() saved six more
// registers, 12 instructions per call with the option off).
[[gnu::cold, gnu::noinline]] void observe_switch(const Thread* from, Thread* to);
[[gnu::cold, gnu::noinline]] void observe_priority_switch();
// A tick set kSwitchTick from 0: the tick's handler, possibly inside the
// core (the one hook that may be): it only stamps the deferral.
[[gnu::cold, gnu::noinline]] void observe_deferred();
[[gnu::cold, gnu::noinline]] void observe_safe_point();  // a deferred tick meets the policy
// The running thread stops running, before the switch that follows (which
// may come only after the kernel thread slept): in block() (the switch back
// to the thread ends the wait) and for good in exit_current_and_schedule.
[[gnu::cold, gnu::noinline]] void observe_stop(Thread* self);
[[gnu::cold, gnu::noinline]] void observe_thread_created(Thread* t, size_t alive);  // `alive` now
[[gnu::cold, gnu::noinline]] void observe_thread_exit(Thread* self);
// What became of a deferred tick at a switch or safe point.
enum class DeferredFate : uint8_t { kNone, kTaken, kOvertaken };

// ---- statistics (stats.cc): PTSHIM_STATS=1 -------------------------------------------------
// Counted only while g_observe has kObserveStats. Printed at exit by
// core/diag (stats_text.cc). Times are in cycle-counter ticks until
// stats_ns turns them into nanoseconds.
inline bool stats_on() { return (g_observe & kObserveStats) != 0; }
inline constexpr int kStatsWaitKinds = static_cast<int>(WaitKind::kChild) + 1;  // kChild is last
inline constexpr int kStatsSwitchWhys = static_cast<int>(SwitchWhy::kPreempt) + 1;
struct StatsLock {
  const void* object;  // the lock's address
  uint64_t waits;      // times a thread blocked on it
  uint64_t cycles;     // time they spent blocked
  WaitKind kind;       // of the first wait (kMutex, kRwRead, kRwWrite, kSpin)
};
struct Stats {
  uint64_t threads_created;  // every thread but the first: the program's and ptshim's own
  uint64_t threads_exited;
  uint64_t alive_max;                   // most threads alive at once, the first included
  uint64_t switches[kStatsSwitchWhys];  // by SwitchWhy
  uint64_t preempted_at[static_cast<int>(SchedPoint::kCount)];  // the kPreempt ones, by point
  // A tick that found the running thread at an unsafe point deferred its
  // switch. Taken: a safe point (or a later tick) put it to the policy with
  // another thread runnable; overtaken: the thread switched away for
  // another reason first.
  uint64_t deferred_taken;
  uint64_t deferred_overtaken;
  uint64_t deferred_cycles;  // waited, all taken ones
  uint64_t deferred_max_cycles;
  uint64_t waits[kStatsWaitKinds];  // ended waits (block() returned), by WaitKind
  uint64_t wait_cycles[kStatsWaitKinds];
  uint64_t locks_contended;  // distinct lock objects a thread blocked on
  uint64_t locks_untracked;  // waits on locks the full table had no room for
  // At start-up (or fork): the cycle counter, CLOCK_MONOTONIC, the kernel thread's CPU time.
  uint64_t start_cycles;
  uint64_t start_ns;
  uint64_t start_cpu_ns;
  long parent_pid;  // a fork child: the process it was forked from; 0 otherwise
};
extern Stats g_stats;
void stats_start();  // at start-up, with options().stats
// The observer's side of the hooks (observe.cc calls them). `now` is the
// cycle counter.
void stats_count_switch(SwitchWhy why, SchedPoint point);  // a switch to another thread
void stats_count_deferred(DeferredFate fate, uint64_t waited_cycles);
void stats_count_wait_end(const Thread* t, uint64_t now);  // t's wait (wait_kind) ended
void stats_count_thread_created(size_t alive);
void stats_count_thread_exit();
void stats_after_fork_in_child();  // the child counts from zero
// The `max` locks with the most time blocked on them, most first; returns how many.
size_t stats_busiest_locks(StatsLock* out, size_t max);
uint64_t stats_ns(uint64_t cycles);  // at the rate the counter ran since start-up
uint64_t stats_elapsed_ns();         // CLOCK_MONOTONIC since start-up (or fork)
uint64_t stats_cpu_ns();             // the kernel thread's CPU time since then

// ---- the schedule's timeline (trace.cc, trace_writer.cc): PTSHIM_TRACE=FILE -----------------
// The Trace Event Format (JSON Array Format) that Perfetto and speedscope
// open: a track per user thread with its running slices and its waits,
// instants for preemptions, deferred ticks, creations, exits and
// contention (docs/design.md, "Trace"). Written only while g_observe has
// kObserveTrace, always inside the core section (or by a dying process).
inline bool trace_on() { return (g_observe & kObserveTrace) != 0; }
void trace_start(Thread* first);  // at start-up, with options().trace_fd
// The observer's side of the hooks (observe.cc); `now` is the cycle counter.
void trace_switch(Thread* from, Thread* to, SwitchWhy why, SchedPoint point, uint64_t now);
void trace_deferred(DeferredFate fate, uint64_t deferred_at, uint64_t now);
void trace_wait_end(Thread* t, uint64_t now);  // t's wait (wait_kind) ended
void trace_stop(Thread* self, uint64_t now);   // blocks (wait_kind set) or exits
void trace_thread_created(Thread* t, uint64_t now);
void trace_thread_exit(Thread* self, uint64_t now);
void trace_thread_renamed(Thread* t);  // pthread_setname_np: its track's name again
// The last events and the closing `]`, the file cut to its length: at exit,
// and before ptshim ends the process by a signal (a crash's report). Once.
void trace_finish(const char* why, int sig);
void trace_after_fork_in_child();  // the child writes no trace: the mapping is the parent's
// The writer: the file through a MAP_SHARED window, moved forward by raw
// system calls (trace_writer.cc). Room for `size` bytes at the returned
// pointer, which trace_commit then takes; null when the file cannot grow.
struct TraceWindow {
  char* pos;  // the next byte to write
  char* end;  // the window's end
};
extern TraceWindow g_trace_window;
bool trace_writer_open(int fd);  // the window at the file's start
char* trace_writer_advance(size_t size);
inline char* trace_reserve(size_t size) {
  if (__builtin_expect(static_cast<size_t>(g_trace_window.end - g_trace_window.pos) < size, 0)) {
    return trace_writer_advance(size);
  }
  return g_trace_window.pos;
}
inline void trace_commit(char* end) { g_trace_window.pos = end; }
void trace_writer_close();   // cuts the file at the last byte written; unmaps
void trace_writer_forget();  // unmaps without writing (a fork child)
void trace_clock_refine();   // at each window move (trace.cc): the clock's rate, measured again

}  // namespace ptshim
