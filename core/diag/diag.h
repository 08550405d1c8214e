// core/diag: every report ptshim writes — faults, stack overflows, deadlocks,
// thread dumps — and what they are made of: thread names and states,
// backtraces of the running or of a parked thread, symbols.
//
// Invariants (docs/design.md, "Reports"):
// - A report allocates nothing and uses no stdio: text goes out through a
//   Writer (core/base), PCs into buffers reserved at start-up. It may be
//   written with the heap, stdio or the loader in any state.
// - While a report is written, g_reporting is set and nothing switches
//   threads: a lock a suspended thread holds is passed over (core/sync).
// - Every report that ends the process ends it with die_by_signal or
//   raise_with_default_action (core/base), so the exit status is the signal's.
// - A new kind of report is one function here: it opens a Writer with
//   as_report, names threads with write_thread_name/write_thread_state and
//   writes frames with write_backtrace(backtrace_running/backtrace_saved).
#pragma once

#include "core/sched/sched.h"

namespace ptshim {

// ---- start-up (crash.cc) ----------------------------------------------------------------
// The signal stack, the PC buffer, libunwind's warm-up, and ptshim's handler
// for the faults, SIGABRT and the dump signal.
void crash_handlers_install();
// The handler of the reported signals; SIGSYS's own (core/io) chains to it.
void crash_signal(int sig, siginfo_t* info, void* ucontext);
void backtrace_reserve();  // the running thread's PC buffer (backtrace.cc)
// A report the process will not survive begins: nothing switches threads
// from here on, and a fault while it is written dies at once.
void fatal_report_begin();
void* report_stack_top();  // the signal stack's top: reports of overflowed stacks run there

// ---- threads in reports (thread_text.cc) ---------------------------------------------------
const char* wait_kind_name(WaitKind k);
void write_thread_name(Writer& w, const Thread* t);   // thread 3 "name"
void write_thread_state(Writer& w, const Thread* t);  // running, waiting on mutex 0x... held by ...
void write_creation(Writer& w, const Thread* t);      // "  created by thread 1 at ...\n"
// Every thread with its state and backtrace; the running thread's frames
// are `running` (may be empty).
struct Backtrace;
void write_thread_dump(Writer& w, const Backtrace& running);

// A report written while other threads may run (deadlock cycles, misuse):
// g_reporting, and no fast path for the calls the report's libraries make
// (a nested fast path would take deferred work, and switch, in the core).
void report_while_others_run_begin();
void report_while_others_run_end();

// ---- locks in reports (lock_name.cc) ------------------------------------------------------
// "mutex a (dl+0x40a0)" for a global or static object, else "mutex 0x7ffd...
// (first locked at <frame>)"; a process-shared object by its address alone.
enum class LockKind : uint8_t;
void write_lock_name(Writer& w, const void* object, LockKind kind);
// One line per lock t holds: "    holds mutex a (dl+0x40a0), locked at <frame>".
void write_held_locks(Writer& w, const Thread* t);
// The data symbol that contains `addr`, and addr's offset in it. The one
// place lock names ask for symbols (the loader's dladdr for now: exported
// symbols only).
bool data_symbol_of(uintptr_t addr, char* name, size_t size, uintptr_t* offset);
// True the first time `key` is asked about (a small set in internal
// memory): what makes each warning once per site (report_once.cc).
bool report_first_time(uintptr_t key);

// ---- backtraces (backtrace.cc, unwind.cc) --------------------------------------------------
// Frames innermost first. pcs[0] is exact when first_exact (the interrupted
// instruction); the rest are return addresses.
struct Backtrace {
  const uintptr_t* pcs;
  size_t n;
  bool first_exact;
};
// The running thread's frames. With a signal's ucontext: from the
// interrupted instruction. Without: from the program's call into ptshim
// (the leading frames of ptshim and libc are dropped, the one rule for
// every backtrace). Empty when backtraces are off.
Backtrace backtrace_running(const void* ucontext);
Backtrace backtrace_saved(const Thread* t);  // a suspended thread, from its saved context
// Runs of a repeating pattern are collapsed, and the outermost frames are
// always shown.
void write_backtrace(Writer& w, const Backtrace& b);
// One code address: "0x... symbol+0x.. (object)"; `exact`: not a return address.
void write_frame(Writer& w, uintptr_t pc, bool exact);
void unwind_prepare();
size_t unwind_running(uintptr_t* pcs, size_t max);
size_t unwind_saved(const arch::Context* context, uintptr_t* pcs, size_t max);
const char* object_of(uintptr_t pc);     // base name of the loaded object
uintptr_t object_base_of(uintptr_t pc);  // its load address (0: none)
bool symbol_of(uintptr_t pc, char* name, size_t size, uintptr_t* offset);

// ---- reports (one file each) -----------------------------------------------------------------
// deadlock.cc. The idle path found nothing runnable, no deadline and no I/O
// waiter: reports a deadlock if threads wait for each other, fatal when no
// signal can end it (or PTSHIM_DEADLOCK=abort), else once as a warning, and
// returns to let the wait go on.
void deadlock_check_idle();
// The thread that holds what a wait for `object` waits for (a mutex's
// owner, a rwlock's writer, the joined thread), or null; and whom blocked
// thread t waits for. Process-shared objects name no thread.
const Thread* holder_of(WaitKind kind, const void* object);
const Thread* waits_for(const Thread* t);
// " waits for mutex a (dl+0x40a0) held by thread 3 "t2"", " joins thread 2 "w"".
void write_wait_edge(Writer& w, const Thread* t);
[[noreturn]] void report_deadlock_and_abort();  // nothing can ever run again
// deadlock_cycle.cc. The running thread is about to wait, without a timeout,
// for `object` (kMutex: a mutex; kRwWrite, kRwRead: a rwlock held by a
// writer; kJoin: a thread): if that wait closes a cycle of threads that wait
// for each other, the cycle is reported at once, though other threads run.
// Fatal (SIGABRT) by default; PTSHIM_DEADLOCK=warn, or auto when a signal may
// still end the wait, reports each cycle once and returns to let it wait.
void deadlock_check_before_block(WaitKind kind, const void* object);
// misuse.cc: API misuse warnings (PTSHIM_MISUSE), once per call site, of the
// running thread's current call (Thread::call_site, call_function).
struct Mutex;
struct Cond;
void misuse_unlock_not_held(const Mutex* m);
void misuse_destroy_busy(const void* object, LockKind kind);
void misuse_cond_mutex_not_held(const Cond* c, const Mutex* m);
void misuse_cond_two_mutexes(const Cond* c, const Mutex* m, const Mutex* others);
void misuse_reinit_live(const void* object, LockKind kind);
void misuse_exit_holding(const Thread* t);  // t is the running thread
void misuse_join_detached(const Thread* target);
// overflow.cc: an overflow of a stack without a guard page, found at a
// switch (ucontext null) or a tick; dies by SIGSEGV.
[[noreturn]] void report_unguarded_overflow(Thread* t, const void* ucontext);
void write_stack_facts(Writer& w, const Thread* t, uintptr_t fault);  // the stack's bounds, advice
// schedule_text.cc: a seeded run's schedule in reports and at exit.
void write_schedule_line(Writer& w);    // "ptshim: schedule seed=... digest=..."
void write_schedule_record(Writer& w);  // the line and the last switches, in a recording run
void schedule_print_at_exit();          // the line, when the run records (the starting process)
void schedule_note_starting_process();  // at start-up: a fork child prints no line of its own
// A preemption PTSHIM_PREEMPT_SHOW names: both threads and their stacks.
void report_preemption(uint64_t number, const Thread* from, const Thread* to);
// dump.cc: all threads, from the dump signal's handler (ucontext) or from
// the safe point after it arrived while the core was busy.
void dump_threads(const void* ucontext);
void take_deferred_dump();

}  // namespace ptshim
