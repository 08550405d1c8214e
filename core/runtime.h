// The shared representation of ptshim's core: user threads, wait queues, the
// deadline heap and the scheduler's interface. Every core/ file and every
// shim/ file includes this one header; nothing else is shared between them.
//
// Execution model (see docs/design.md for the reasoning):
// - One kernel thread runs every user thread. The core runs either on behalf
//   of the current user thread (called from shim/) or inside the preemption
//   handler, which only touches core state when the interrupted code was
//   outside the shim (see core/preempt.cc). So core state needs no locks.
// - A user thread is in exactly one of: the run queue, one wait queue, or
//   neither (running, sleeping without a queue, exited). Independently it may
//   sit in the deadline heap when its wait has a timeout.
#pragma once

#include <sched.h>
#include <cstddef>

#include <cstdint>
#include <ctime>

#include "arch/arch.h"

struct sigaction;
struct pollfd;
// glibc's own entry points for calls the shim may one day interpose: the
// shim's internal use must never reach its own definitions.
extern "C" int __sigaction(int, const struct sigaction*, struct sigaction*);

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
};

// kInterrupted: a cancellation request woke a thread blocked at a
// cancellation point (it gave up its wait: no unit, no lock was handed to it).
enum class WakeReason : uint8_t { kWoken, kTimedOut, kInterrupted };

inline constexpr int kKeysMax = 1024;            // PTHREAD_KEYS_MAX
inline constexpr int kKeyBlock = 32;             // values per key block
inline constexpr int kDestructorIterations = 4;  // PTHREAD_DESTRUCTOR_ITERATIONS

struct KeySlot {
  void* value;
  uint64_t seq;  // the key's sequence number when the value was stored
};

struct Thread {
  arch::Context context;
  uint64_t number;  // 1 for the process's original thread, then 2, 3, ...
  ThreadState state;
  WaitKind wait_kind;
  WakeReason wake_reason;
  bool detached;
  bool is_main;  // runs on the process stack

  // Run queue or wait queue membership.
  Thread* next;
  Thread* prev;
  WaitQueue* queue;         // the wait queue this thread is on, if any
  const void* wait_object;  // what it waits for (mutex, condvar, thread, ...)

  // Deadline heap membership: index + 1, 0 when not in the heap.
  uint64_t deadline_ns;  // CLOCK_MONOTONIC
  uint32_t heap_slot;

  int saved_errno;
  uint32_t file_locks_held;  // flockfile depth: not preempted while > 0

  // Stack: [stack_lo, stack_lo + stack_size) usable, guard below it.
  void* map_base;  // what to munmap, or null for a user-provided stack
  size_t map_size;
  void* stack_lo;
  size_t stack_size;
  size_t guard_size;

  void* (*start_routine)(void*);
  int (*c11_start_routine)(void*);  // thrd_create: the result is an int
  void* start_arg;
  char name[16];         // pthread_setname_np; empty: the start routine's symbol
  int32_t sched_policy;  // recorded, not applied (one kernel thread)
  int32_t sched_priority;
  cpu_set_t* affinity;      // pthread_setaffinity_np's, recorded; null: never set
  uint64_t creator_number;  // the thread that called pthread_create
  uintptr_t created_at;     // its return address in pthread_create's caller
  void* result;
  Thread* joiner;

  // pthread keys beyond the first block (keys_first, below): kKeysMax /
  // kKeyBlock block pointers, allocated on demand, as are the blocks.
  KeySlot** keys_more;

  // Cancellation and unwinding (core/cancel.cc).
  bool cancel_disabled;
  bool cancel_async;
  bool cancel_pending;
  bool at_cancel_point;    // blocked where a cancellation request wakes it
  bool unwinding;          // pthread_exit or cancellation under way
  void* cleanup_jmp_bufs;  // innermost pthread_cleanup_push buffer (C)
  void* cleanup_old;       // innermost _pthread_cleanup_push buffer (old ABI)
  void* exit_value;
  alignas(16) unsigned char unwind_exception[32];  // a struct _Unwind_Exception
  uint64_t pending_signals;                        // pthread_kill, bit sig - 1
  uint64_t signal_mask;                            // blocked signals, bit sig - 1

  // I/O wait (core/io.cc): the pollfds this thread waits for, on its stack.
  struct pollfd* io_fds;
  size_t io_count;
  const uint32_t* futex_word;  // parked in a FUTEX_WAIT (core/io.cc)
  uint32_t futex_value;

  // Thread control block (core/tls.cc); null while all threads share one.
  void* tls_area;
  bool tls_reused;

  // All live threads, for reports and fork.
  Thread* all_next;
  Thread* all_prev;

  // The first block of pthread key values. Last, because a slot is reused
  // without clearing it: a thread leaves every value null when it exits
  // (key_run_destructors), so only the fields above are zeroed.
  KeySlot keys_first[kKeyBlock];
};

void take_pending_preemption();

// ---- sync objects: the core's view of glibc's types -------------------------------
// Each is laid over the glibc type of the same size; all-zero is a valid
// unlocked/empty object, and glibc's __kind stays at offset 16 so the static
// initialisers (PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP, ...) keep working.
enum MutexType : int32_t {
  kMutexNormal = 0,
  kMutexRecursive = 1,
  kMutexErrorCheck = 2,
  kMutexAdaptive = 3
};
struct Mutex {
  Thread* owner;
  uint32_t depth;  // recursion depth of the owner
  uint32_t woken;  // a waiter was woken by unlock and has not retried yet
  int32_t kind;    // glibc's __kind: the type in the low bits
  uint32_t reserved;
  WaitQueue waiters;
  MutexType type() const { return static_cast<MutexType>(kind & 3); }
};
static_assert(sizeof(Mutex) == 40);
static_assert(__builtin_offsetof(Mutex, kind) == 16);

struct Cond {
  WaitQueue waiters;
  int32_t clock;  // for timedwait deadlines; 0 is CLOCK_REALTIME
  uint32_t reserved[7];
};
static_assert(sizeof(Cond) == 48);

struct Barrier {
  WaitQueue waiters;
  uint32_t count;
  uint32_t arrived;
  uint32_t generation;
  uint32_t reserved;
};
static_assert(sizeof(Barrier) == 32);

// glibc's __flags (the kind) stays at offset 48: the writer-preferring
// static initialiser sets it.
enum RwLockKind : uint32_t {
  kRwPreferReader = 0,
  kRwPreferWriter = 1,
  kRwPreferWriterNonrecursive = 2
};
struct RwLock {
  WaitQueue readers;
  WaitQueue writers;
  Thread* writer;
  uint32_t active_readers;
  uint32_t reserved;
  uint32_t kind;
  uint32_t reserved2;
};
static_assert(sizeof(RwLock) == 56);
static_assert(__builtin_offsetof(RwLock, kind) == 48);

// The value sits where glibc's sem_open puts it (the low half of the first
// word) and glibc leaves the rest zero, so named semaphores work unchanged.
struct Semaphore {
  uint32_t value;
  uint32_t glibc_nwaiters;
  int32_t glibc_private;
  int32_t reserved;
  WaitQueue waiters;
};
static_assert(sizeof(Semaphore) == 32);

// 0, or EBUSY (try), EDEADLK, EAGAIN, ETIMEDOUT. deadline_ns 0: none.
int mutex_lock(Mutex* m, uint64_t deadline_ns, bool try_only);
int mutex_unlock(Mutex* m);                              // 0 or EPERM
int mutex_destroy(Mutex* m);                             // 0 or EBUSY
int cond_wait(Cond* c, Mutex* m, uint64_t deadline_ns);  // 0, ETIMEDOUT, EPERM
void cond_signal(Cond* c);
void cond_broadcast(Cond* c);
int cond_destroy(Cond* c);
int once_run(int* control, void (*init)());
bool barrier_wait(Barrier* b);  // true for exactly one thread of each round
// 0, EBUSY (try), EDEADLK, EAGAIN, ETIMEDOUT. Waiters are granted the lock
// by the unlocking thread.
int rwlock_rdlock(RwLock* l, uint64_t deadline_ns, bool try_only);
int rwlock_wrlock(RwLock* l, uint64_t deadline_ns, bool try_only);
int rwlock_unlock(RwLock* l);                                           // 0 or EPERM
int semaphore_wait(Semaphore* s, uint64_t deadline_ns, bool try_only);  // 0, EAGAIN, ETIMEDOUT
int semaphore_post(Semaphore* s);                                       // 0 or EOVERFLOW
void spin_lock(int* lock);
void spin_unlock(int* lock);
void sleep_until(uint64_t deadline_ns);
Mutex* file_lock_of(const void* file);  // flockfile's recursive mutex

// Absolute time on `clock` to a CLOCK_MONOTONIC deadline (at least 1).
// 0 or EINVAL (bad timespec or unsupported clock).
int deadline_from_abstime(clockid_t clock, const timespec* abstime, uint64_t* deadline_ns);
int deadline_from_relative(const timespec* interval, uint64_t* deadline_ns);
bool clock_is_supported(clockid_t clock);

// ---- options (core/options.cc) ----------------------------------------------
struct Options {
  uint64_t timeslice_ns;         // 0: cooperative, no timer
  size_t default_stack_size;     // bytes
  size_t guarded_stacks;         // PTSHIM_GUARDED_STACKS: live stacks that get a guard page
  bool shared_tls;               // PTSHIM_TLS=shared: one control block for all threads
  arch::SwitchKind switch_kind;  // PTSHIM_SWITCH: fast (default) or ucontext
  bool backtraces;               // PTSHIM_BACKTRACE=0 turns them off in reports
  int report_fd;                 // PTSHIM_REPORT=path: reports go there too; -1: stderr only
  int dump_signal;               // PTSHIM_DUMP_SIGNAL: prints all threads (default SIGQUIT)
  const char* dump_signal_name;
};
const Options& options();
void parse_options_or_exit();

// ---- process state (core/init.cc) -------------------------------------------
// True on the kernel thread that runs the scheduler. Initial-exec TLS: one
// %fs-relative load on every shim entry. Any other kernel thread (made by a
// glibc-internal path ptshim does not interpose) sees false.
extern __thread bool tls_on_scheduler_thread __attribute__((tls_model("initial-exec")));
void ensure_initialized_or_die(const char* function);  // slow path of ShimEntry

// ---- scheduler (core/sched.cc) ----------------------------------------------
Thread* current();
// Moves the caller to the back of the run queue and runs the next thread.
void yield();
// Blocks the current thread on `queue` (may be null: a pure sleep) until
// woken or until `deadline_ns` (0: none) passes; `front` queues it first.
WakeReason block(WaitQueue* queue, WaitKind kind, const void* object, uint64_t deadline_ns,
                 bool front = false);
// Makes a blocked thread runnable (removes it from its queue and the heap).
void wake(Thread* t, WakeReason reason);
Thread* wake_one(WaitQueue* queue);
void wake_all(WaitQueue* queue);
// Waits keyed by an address, for objects too small to hold a queue (once
// controls, spinlocks): one shared queue, woken by key.
WakeReason block_keyed(WaitKind kind, const void* key, uint64_t deadline_ns);
void wake_keyed(const void* key);
void make_runnable(Thread* t);  // a new thread
// Switches away from an exited thread for good.
[[noreturn]] void exit_current_and_schedule();
// Called by leave_core() when a preemption is pending; enters and leaves the
// core itself.
void take_pending_preemption();
bool run_queue_empty();
void set_initial_current(Thread* t);
void after_first_switch_in();  // a new thread's first step (core/thread.cc)

void wait_queue_push(WaitQueue* q, Thread* t);
void wait_queue_push_front(WaitQueue* q, Thread* t);
void wait_queue_remove(WaitQueue* q, Thread* t);

// ---- deadlines (core/deadline.cc) -------------------------------------------
uint64_t monotonic_now_ns();
void deadline_insert(Thread* t, uint64_t deadline_ns);
void deadline_remove(Thread* t);
bool deadline_any();
void deadline_reset();
uint64_t deadline_earliest_ns();
Thread* deadline_pop_expired(uint64_t now_ns);  // null when none

// ---- the core section ----------------------------------------------------------
// g_in_core is 1 while core state may be inconsistent or a switch is under
// way: from a shim function's entry to its exit, and while the preemption
// handler works. Every context switch happens with it at 1, so switching
// needs no save/restore of it; paths that call back into program code (start
// routines, once routines, key destructors) drop it around the call.
extern volatile int g_in_core;
// Set while a report (crash, overflow, thread dump, deadlock) is written:
// nothing may switch threads then, so a lock held by a suspended thread is
// passed over rather than waited for (core/report.cc).
extern volatile int g_reporting;
extern volatile int preempt_pending;
inline void enter_core() {
  g_in_core = 1;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}
// Leaving the core is a safe point: a preemption that arrived meanwhile is
// taken here.
inline void leave_core() {
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  g_in_core = 0;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (__builtin_expect(preempt_pending, 0)) take_pending_preemption();
}

// ---- fast paths: shim steps that skip the core section ---------------------------
// A step may run without enter_core() when (1) all its code is in libptshim,
// where the preemption handler never switches threads (rule 2 in
// core/preempt.cc), and (2) it touches only fields the handler never writes:
// the handler only wakes timed-out waiters, removing them from wait queues,
// so reading a queue's head races with nothing worse than seeing a waiter
// that is gone (the step then takes the slow path). A tick meanwhile sets
// preempt_pending; the step ends at a safe point, which takes it.
inline bool fast_path_allowed() { return __builtin_expect(tls_on_scheduler_thread, 1); }
inline int fast_path_done(int result) {
  if (__builtin_expect(preempt_pending, 0)) take_pending_preemption();
  return result;
}
// The uncontended lock and unlock: only owner and depth change.
inline bool mutex_lock_fast(Mutex* m) {
  if (m->owner != nullptr) return false;
  m->owner = current();
  m->depth = 1;
  return true;
}
// With waiters, only when one was woken already and will retry.
inline bool mutex_unlock_fast(Mutex* m) {
  if (m->owner != current() || m->depth != 1 || (m->waiters.head != nullptr && m->woken == 0)) {
    return false;
  }
  m->owner = nullptr;
  m->depth = 0;
  return true;
}

// ---- preemption (core/preempt.cc) -------------------------------------------
void preempt_init();
void preempt_install_handler();  // at start-up: SIGALRM, chained to the program's action
void preempt_enable();           // the process became multi-threaded: create the timers
// Brings the timers in line with the run queue and the deadline heap; cheap
// when nothing changed. Called whenever either changes.
void preempt_sync_timers();
void preempt_before_idle();  // nothing runnable: the kernel thread will sleep
// True when the caller is the only thread left: it may then block in the
// kernel itself. The timers are stopped first (they stay armed when threads
// exit, so that create/join cycles cost no timer calls): a stray tick would
// make the call fail with an EINTR the program never asked for.
bool lone_thread_may_block();
// The handler's work once it is allowed to touch core state (core/sched.cc).
void preempt_switch_from_handler();
void expire_deadlines();
void preempt_after_fork_in_child();

// ---- threads (core/thread.cc) -----------------------------------------------
struct ThreadAttributes {
  bool detached;
  size_t stack_size;  // 0: default
  size_t guard_size;
  void* user_stack_lo;  // with user_stack_size: a stack the program owns
  size_t user_stack_size;
};
Thread* adopt_main_thread();
// 0 or EAGAIN / ENOMEM / EINVAL.
int thread_create(const ThreadAttributes& attrs, void* (*start)(void*), void* arg, Thread** out);
// 0, ESRCH, EINVAL, EDEADLK, EBUSY (try), ETIMEDOUT. deadline_ns 0: none.
int thread_join(Thread* t, void** result, uint64_t deadline_ns = 0, bool try_only = false);
int thread_detach(Thread* t);
[[noreturn]] void thread_exit(void* result);
bool thread_is_valid(const Thread* t);  // a live or unjoined thread
Thread* all_threads_head();
void threads_after_fork_in_child();
void scheduler_after_fork_in_child();
void reap_detached(Thread* t);
size_t live_thread_count();  // not exited

// ---- waiting for file descriptors (core/io.cc) ----------------------------------
// Blocks the current thread until one of `fds` is ready, the deadline (0:
// none) passes, or a cancellation request arrives. The caller then retries.
WakeReason io_block(struct pollfd* fds, size_t count, uint64_t deadline_ns);
bool io_waiters_exist();
// Polls every waiter's fds, waiting up to timeout_ns (-1: without limit),
// and wakes those that are ready.
void io_poll(int64_t timeout_ns);
void io_poll_if_due(uint64_t now_ns);  // a zero-timeout poll, rate-limited
// Parks the current thread until *word != value (a FUTEX_WAIT found blocked
// in the kernel by the timer).
void futex_block(const uint32_t* word, uint32_t value);

// ---- pthread_exit and cancellation (core/cancel.cc) ----------------------------
// Ends the current thread as glibc does: a forced unwind runs the C++
// destructors of its frames and its cleanup handlers, then thread_exit().
// Called outside the core.
[[noreturn]] void unwind_and_exit(void* result);
// At a cancellation point (outside the core): acts on a pending request.
void act_on_cancellation();
int cancel_request(Thread* t);                        // pthread_cancel: 0 or ESRCH
void cleanup_push(void* jmp_buf_frame);               // __pthread_register_cancel
void cleanup_pop(void* jmp_buf_frame);                // __pthread_unregister_cancel
[[noreturn]] void cleanup_next(void* jmp_buf_frame);  // __pthread_unwind_next
void old_cleanup_push(void* frame, void (*routine)(void*), void* arg);  // _pthread_cleanup_push
void old_cleanup_pop(void* frame, bool execute);
// Signals sent to a user thread with pthread_kill, raised when it next runs
// outside the core (take_pending_preemption).
void signal_request(Thread* t, int sig);
void deliver_pending_signals();

// ---- signal masks (core/signal_mask.cc) ---------------------------------------
void signal_mask_adopt_first_thread(Thread* t);
// Makes the kernel's mask `t`'s (a system call only if it differs).
void signal_mask_install(Thread* t);
// Something other than signal_mask_install changed the kernel's mask.
void signal_mask_note_kernel(uint64_t mask);
uint64_t signal_mask_kernel();
// pthread_sigmask's work for `t`: 0, or EINVAL for a bad `how`.
int signal_mask_change(Thread* t, int how, const sigset_t* set, sigset_t* old);
bool signal_is_blocked(const Thread* t, int sig);
// Of `pending`, the signals that may be raised for `t` now: not those it
// blocks that the kernel would deliver anyway (SIGALRM, the faults).
uint64_t signal_deliverable(const Thread* t, uint64_t pending);
// A program SIGALRM that arrived while the running thread blocked it.
void signal_hold_program_alarm();
bool signal_take_held_alarm();
bool signal_alarm_held_for(uint64_t mask);               // one is held and `mask` lets it through
uint64_t signal_mask_from_set(const sigset_t* set);      // bits 1-64, minus the unblockable
uint64_t signal_mask_kernel_form(uint64_t thread_mask);  // what the kernel gets for it
// Sets `t`'s mask without touching the kernel's (sigsuspend's atomic wait);
// returns the previous one.
uint64_t signal_mask_swap(Thread* t, uint64_t mask);

// ---- thread control blocks (core/tls.cc) -------------------------------------
struct TlsBlock {
  void* area;
  bool reused;
};
void tls_initialize(Thread* main_thread);
void tls_report_fallback_once();
// A control block for a new thread. Leaves the core while it works (it may
// reach malloc). False when memory ran out.
bool tls_prepare(TlsBlock* block);
void tls_bind(Thread* t, const TlsBlock& block);  // after the stack is known
void tls_discard(const TlsBlock& block);          // an unused block back to the cache
void tls_on_thread_start(Thread* t);              // on the new thread, outside the core
void tls_run_destructors();                       // C++ thread_local destructors; outside the core
void tls_release(Thread* t);                      // the block goes back to the cache
void tls_after_fork_in_child(Thread* survivor);

// ---- stacks (core/stack.cc) -------------------------------------------------
size_t page_size();
// Maps a stack with a PROT_NONE guard below it while the guard budget lasts
// (without one past it). 0 or an errno value.
int stack_allocate(Thread* t, size_t stack_size, size_t guard_size);
void stack_adopt_user_stack(Thread* t, void* lo, size_t size);  // pthread_attr_setstack's
void stack_release(Thread* t);
size_t stack_default_guard_budget();  // from vm.max_map_count
// For a stack without a guard: true if `sp` is just below it (an overflow in
// progress). core/crash.cc reports it.
bool stack_overflowed(const Thread* t, uintptr_t sp);
[[noreturn]] void report_unguarded_overflow(Thread* t, const void* ucontext);
bool on_signal_stack();  // the running code is on a sigaltstack (core/preempt.cc)

// ---- keys (core/key.cc) -----------------------------------------------------
int key_create(unsigned* key, void (*destructor)(void*));
int key_delete(unsigned key);
void* key_get(unsigned key);
int key_set(unsigned key, const void* value);
void key_run_destructors(Thread* t);
void key_release_storage(Thread* t);

// ---- internal memory (core/alloc.cc): never malloc ---------------------------
void* internal_alloc_zeroed(size_t size);  // dies on exhaustion
size_t internal_alloc_size(size_t size);   // the block internal_alloc_zeroed(size) gives
void internal_free(void* p, size_t size);

// ---- reports (core/report.cc): raw write(2), no stdio -------------------------
struct Writer {
  char buf[512];
  size_t len = 0;
  int fd = 2;
  int copy_fd = -1;  // reports also go to PTSHIM_REPORT
  Writer& str(const char* s);
  Writer& dec(uint64_t v);
  Writer& sdec(int64_t v);
  Writer& hex(uint64_t v);
  Writer& chr(char c);
  void flush();
  ~Writer() { flush(); }
};
[[noreturn]] void fatal(const char* message);
[[noreturn]] void report_deadlock_and_abort();
const char* wait_kind_name(WaitKind k);
// A Writer for reports: stderr, and the PTSHIM_REPORT file if one was named.
inline Writer& as_report(Writer& w) {
  w.copy_fd = options().report_fd;
  return w;
}
void write_thread_name(Writer& w, const Thread* t);  // thread 3 "name"
void write_thread_state(Writer& w, const Thread* t);
// Frames innermost first; runs of a repeating pattern are collapsed, and the
// outermost frames are always shown. pcs[0] is exact when `first_exact`,
// the rest are return addresses.
void write_backtrace(Writer& w, const uintptr_t* pcs, size_t n, bool first_exact);
void write_saved_backtrace(Writer& w, const Thread* t);        // a suspended thread
size_t skip_scheduler_frames(const uintptr_t* pcs, size_t n);  // leading shim/libc frames
// Writes every thread with its state and backtrace; the running thread's
// frames start at `running_pcs` (may be null).
void write_thread_dump(Writer& w, const uintptr_t* running_pcs, size_t running_n);

// ---- unwinding (core/unwind.cc) -----------------------------------------------
void unwind_prepare();
size_t unwind_running(uintptr_t* pcs, size_t max);
size_t unwind_saved(const arch::Context* context, uintptr_t* pcs, size_t max);
const char* object_of(uintptr_t pc);  // base name of the loaded object
bool symbol_of(uintptr_t pc, char* name, size_t size, uintptr_t* offset);

// ---- crashes, overflows, thread dumps (core/crash.cc) -------------------------
void main_stack_bounds(uintptr_t* lo, uintptr_t* hi);
void crash_handlers_install();
void crash_take_pending_dump();  // a SIGQUIT that arrived while the core was busy
// sigaction for the signals ptshim handles itself: the program's action is
// recorded (and reported back) while ptshim's handler stays installed.
bool signal_is_managed(int sig);
void program_action_get(int sig, struct sigaction* old);
void program_action_set(int sig, const struct sigaction* act);

}  // namespace ptshim
