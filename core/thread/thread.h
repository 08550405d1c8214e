// core/thread: the life of a user thread — the thread table, creation with
// its attributes, exit, join and detach; its stack, its thread control block
// (TLS), its pthread keys, and pthread_exit/cancellation by forced unwind.
//
// Invariants (docs/design.md, "Threads"):
// - A pthread_t is a Thread pointer into one reserved table, so it is
//   validated (thread_is_valid) by a range check, never trusted.
// - A slot is freed (its stack, control block and key storage released) only
//   when the thread is joined, or reaped when detached — never while it runs
//   on that stack.
// - Each thread has its own control block at the thread pointer (errno,
//   __thread, the stack-protector canary), unless PTSHIM_TLS=shared.
#pragma once

#include <signal.h>

#include "core/sched/sched.h"

namespace ptshim {

// pthread_attr_t in glibc 2.36's own layout (nptl's struct pthread_attr), so
// an attribute means the same whoever filled it in: the program through
// ptshim's functions, or glibc's own code (aio, getaddrinfo_a, mq_notify),
// whose thread creation reaches ptshim as well (glibc_create.cc). Also what
// thread_create takes. All-zero is valid: what glibc's pthread_attr_init
// makes, but for the guard size.
struct ThreadAttr {
  enum Flag : int32_t {
    kDetached = 0x1,        // ATTR_FLAG_DETACHSTATE
    kExplicitSched = 0x2,   // ATTR_FLAG_NOTINHERITSCHED
    kScopeProcess = 0x4,    // ATTR_FLAG_SCOPEPROCESS (refused, as glibc does)
    kUserStack = 0x8,       // ATTR_FLAG_STACKADDR
    kSchedParamSet = 0x20,  // ATTR_FLAG_SCHED_SET
    kPolicySet = 0x40,      // ATTR_FLAG_POLICY_SET
  };
  int32_t sched_priority;  // struct sched_param
  int32_t sched_policy;
  int32_t flags;
  size_t guard_size;
  void* stack_top;    // with kUserStack: the highest address of the program's stack
  size_t stack_size;  // 0: the default
  // glibc's own allocation (cpuset, signal mask), when glibc's code filled
  // the attribute; ptshim's functions leave it null.
  const void* glibc_extension;
  void* unused;

  bool has(Flag f) const { return (flags & f) != 0; }
  void set(Flag f, bool on) { flags = on ? flags | f : flags & ~f; }
};
// glibc's struct pthread_attr_extension: where its pthread_attr_setsigmask_np
// keeps the mask.
struct GlibcAttrExtension {
  void* cpuset;
  size_t cpuset_size;
  uint64_t sigmask[16];  // sigset_t
  bool sigmask_set;
};
void attr_set_defaults(ThreadAttr* a);

// ---- scheduling parameters (sched_params.cc) --------------------------------------------
bool sched_policy_is_valid(int policy);
bool sched_priority_is_valid(int policy, int priority);
// 0, EINVAL (bad policy or priority) or EPERM (a change of t's current
// policy and priority the kernel would refuse the process).
int sched_params_check(const Thread* t, int policy, int priority);
// Records t's policy and priority; the scheduler runs t by them.
void thread_set_sched(Thread* t, int policy, int priority);
// The first thread starts with the kernel thread's policy (chrt, a parent's).
void thread_adopt_kernel_sched(Thread* t);
// Another process changed the kernel thread's policy or priority since it
// was last looked at: t (the caller asking for its own) takes them.
void thread_follow_kernel_sched(Thread* t);

// ---- the thread table, create, join, exit (thread.cc) -----------------------------------
Thread* adopt_main_thread();
// 0 or EAGAIN / ENOMEM / EINVAL / EPERM. `created_at` is the caller's
// return address, `site` the first one in the program's own code (0: the
// same), for reports.
int thread_create(const ThreadAttr& attr, void* (*start)(void*), void* arg, uintptr_t created_at,
                  Thread** out, uintptr_t site = 0);
// 0, ESRCH, EINVAL, EDEADLK, EBUSY (try), ETIMEDOUT. deadline_ns 0: none.
int thread_join(Thread* t, void** result, uint64_t deadline_ns = 0, bool try_only = false);
int thread_detach(Thread* t);
[[noreturn]] void thread_exit(void* result);
bool thread_is_valid(const Thread* t);  // a live or unjoined thread
// A slot of the thread table, whatever its state: the handle of a thread
// that existed, possibly exited and joined since.
bool thread_is_slot(const Thread* t);
// The reserved thread table, [lo, hi): a pointer inside may be read as a
// Thread (never-used slots read as zero), one outside may not. For checks
// that must cost next to nothing (core/sched's wait queues).
extern uintptr_t g_thread_table_lo, g_thread_table_hi;
inline bool thread_in_table(const Thread* t) {
  return reinterpret_cast<uintptr_t>(t) - g_thread_table_lo <
         g_thread_table_hi - g_thread_table_lo - sizeof(Thread);
}
// Slots are numbered from 0 (the original thread) up to kThreadSlotsMax.
inline constexpr size_t kThreadSlotsMax = size_t{1} << 21;
size_t thread_slot(const Thread* t);  // t is valid
Thread* thread_in_slot(size_t slot);  // a live or unjoined thread, or null
Thread* all_threads_head();
// Every thread not yet freed, through all_next/all_prev: all_threads_head()'s
// list, named for core/diag's debugger view, which gives its address out.
extern Thread* g_all_threads;
size_t live_thread_count();  // not exited, ptshim's own included: what reports count
// The threads that may still run: not exited, and not one of ptshim's own
// while it is idle. The process ends when the last of them exits, and one
// alone may block in the kernel itself (lone_thread_may_block).
size_t active_thread_count();
void reap_detached(Thread* t);
void threads_after_fork_in_child();

// ---- glibc's own pthread_create (glibc_create.cc) -----------------------------------------
// At start-up: every call of glibc's pthread_create, through any symbol or
// pointer and from inside libc, runs `replacement` (ptshim's) instead. False
// if it could not be done.
bool thread_route_glibc_create(const void* replacement);

// ---- ptshim's own threads (thread.cc) ----------------------------------------------------
// A detached thread that runs `start` for ptshim itself (the timer notifier,
// timer.cc), with every signal blocked, named `name` in reports and never
// handed to the program. It starts idle.
int thread_create_own(void* (*start)(void*), const char* name, size_t stack_size, Thread** out);
// An idle own thread is not active: it keeps neither the process alive nor a
// lone thread from blocking in the kernel, as it will not run until a
// program thread gives it work. When `t` itself goes idle with no active
// thread left, the process ends by exit(0), as when its last thread exits.
void thread_set_idle(Thread* t, bool idle);

// ---- POSIX timers that notify by thread (timer.cc) ---------------------------------------
// A SIGEV_THREAD timer is ptshim's own: no kernel timer, no signal. The next
// expiration of every armed one is the deadline of one notifier thread of
// ptshim's, which starts a detached thread per expiration, as glibc's helper
// thread does (docs/design.md, "Timers that notify by thread").
//
// A handle has the top bit set, like glibc's own SIGEV_THREAD timer_t; the
// kernel's timer ids, which glibc hands out for every other kind of timer,
// are non-negative ints, so the two never meet.
inline bool thread_timer_handle_is_ours(uintptr_t timer) { return (timer >> 63) != 0; }
struct TimerTimes {
  uint64_t value_ns;     // left until the next expiration; 0: disarmed
  uint64_t interval_ns;  // the period; 0: one-shot
};
// `attr` is copied (glibc does too), made detached. 0, or EINVAL or another
// error of the kernel's for a clock it does not know, ENOTSUP for a CPU-time
// clock, EAGAIN when the notifier thread cannot be made.
int thread_timer_create(clockid_t clock, void (*function)(union sigval), union sigval value,
                        const ThreadAttr& attr, uintptr_t created_at, uintptr_t* handle);
// `value` and `interval` are valid (the shim checks them); a zero value
// disarms. Each returns 0 or EINVAL for a handle that names no timer.
int thread_timer_set(uintptr_t handle, bool absolute, const timespec& value,
                     const timespec& interval, TimerTimes* old);
int thread_timer_get(uintptr_t handle, TimerTimes* times);
int thread_timer_overrun(uintptr_t handle, int* overrun);
int thread_timer_delete(uintptr_t handle);
void thread_timers_after_fork_in_child();  // timers are not inherited

// ---- CPU-time clocks of user threads (cpu_clock.cc) -----------------------------------
// pthread_getcpuclockid's clock for `t` (alive). The original thread keeps
// the kernel's id for its kernel thread; every other user thread gets an id
// in the kernel's encoding with a thread id above PID_MAX_LIMIT, which a
// direct system call rejects (EINVAL) and which slot reuse changes.
clockid_t thread_cpu_clock(const Thread* t);
enum class CpuClockOwner : uint8_t {
  kKernel,  // not a user thread's CPU clock: the kernel's (ordinary, process CPU clocks)
  kThread,  // a live user thread's CPU clock
  kNone,    // a thread CPU clock that names no live user thread: EINVAL
};
CpuClockOwner thread_cpu_clock_owner(clockid_t clock, Thread** owner);
// For the kernel (timers): a user thread's CPU clock becomes the kernel
// thread's, which counts all user threads; any other clock stays.
clockid_t thread_cpu_clock_for_kernel(clockid_t clock);
// A user thread's CPU time, or the CPU-time clock's as the kernel reads it:
// 0, or EINVAL for a clock that names nothing.
int cpu_clock_now(clockid_t clock, uint64_t* ns);
// clock_nanosleep on a CPU-time clock (the caller checked that it is one):
// 0, EINVAL (the caller's own thread clock, a bad clock or time), EINTR
// (with the time left in `remain` when relative).
int cpu_clock_sleep(clockid_t clock, bool absolute, const timespec* request, timespec* remain);

// ---- stacks (stack.cc) ---------------------------------------------------------------
// Maps a stack with a PROT_NONE guard below it while the guard budget lasts
// (without one past it). 0 or an errno value.
int stack_allocate(Thread* t, size_t stack_size, size_t guard_size);
void stack_adopt_user_stack(Thread* t, void* lo, size_t size);  // pthread_attr_setstack's
void stack_release(Thread* t);
size_t stack_default_guard_budget();  // from vm.max_map_count
// For a stack without a guard: true if `sp` is just below it (an overflow in
// progress). core/diag reports it.
bool stack_overflowed(const Thread* t, uintptr_t sp);
// The process stack: its top, and the floor RLIMIT_STACK lets it grow to.
void main_stack_locate();  // at start-up, from /proc/self/maps
void main_stack_bounds(uintptr_t* lo, uintptr_t* hi);

// ---- thread control blocks (tls.cc) ------------------------------------------------------
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

// ---- keys (key.cc) ---------------------------------------------------------------------
int key_create(unsigned* key, void (*destructor)(void*));
// While on (ptshim's start-up), and while a report is written, keys are
// ptshim's own (libunwind makes one on first use) and come from the reserve
// above the program's PTHREAD_KEYS_MAX.
void key_reserve_for_ptshim(bool on);
int key_delete(unsigned key);
void* key_get(unsigned key);
int key_set(unsigned key, const void* value);
void key_run_destructors(Thread* t);
void key_release_storage(Thread* t);

// ---- pthread_exit and cancellation (cancel.cc) ---------------------------------------------
// Ends the current thread as glibc does: a forced unwind runs the C++
// destructors of its frames and its cleanup handlers, then thread_exit().
// Called outside the core; `called_at`: the return address of the
// program's pthread_exit or thrd_exit (0 for a cancellation), for the trace.
[[noreturn]] void unwind_and_exit(void* result, uintptr_t called_at);
// At a cancellation point (outside the core): acts on a pending request.
void act_on_cancellation();
// Asynchronous cancellation is due: the tick (core/sched) then acts on it
// where it interrupted the thread in safe code, from inside its handler, as
// glibc's SIGCANCEL handler does.
inline bool cancel_async_due(const Thread* t) {
  return __builtin_expect(t->cancel_pending, 0) && t->cancel_async && !t->cancel_disabled &&
         !t->unwinding;
}
int cancel_request(Thread* t);                        // pthread_cancel: 0 or ESRCH
void cleanup_push(void* jmp_buf_frame);               // __pthread_register_cancel
void cleanup_pop(void* jmp_buf_frame);                // __pthread_unregister_cancel
[[noreturn]] void cleanup_next(void* jmp_buf_frame);  // __pthread_unwind_next
// Calls fn(arg) outside the core (from inside it; back inside on return).
// If the thread unwinds out of fn (pthread_exit, cancellation, a C++
// exception), on_unwind(unwind_arg) runs first, in the core, and the unwind
// goes on.
void call_unwind_guarded(void (*fn)(void*), void* arg, void (*on_unwind)(void*), void* unwind_arg);
void old_cleanup_push(void* frame, void (*routine)(void*), void* arg);  // _pthread_cleanup_push
void old_cleanup_pop(void* frame, bool execute);

}  // namespace ptshim
