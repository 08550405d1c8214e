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
// The signal stack, the PC buffer, libunwind's warm-up, the terminate handler
// (exception.cc), and ptshim's handler for the faults, SIGABRT and the dump
// signal.
void crash_handlers_install();
// The handler of the reported signals; SIGSYS's own (core/io) chains to it.
void crash_signal(int sig, siginfo_t* info, void* ucontext);
void backtrace_reserve();  // the running thread's PC buffer (backtrace.cc)
// A report the process will not survive begins: nothing switches threads
// from here on, and a fault while it is written dies at once.
void fatal_report_begin();
// When the fatal report began (monotonic_now_ns: the clock deadlines follow);
// 0 before. A core's "now", for a debugger (debugger_view.cc).
extern uint64_t g_fatal_report_ns;
void* report_stack_top();  // the signal stack's top: reports of overflowed stacks run there

// ---- threads in reports (thread_text.cc) ---------------------------------------------------
const char* wait_kind_name(WaitKind k);
inline constexpr int kWaitKindCount = static_cast<int>(WaitKind::kChild) + 1;  // kChild is last
struct WaitKindNames {
  const char* names[kWaitKindCount];
};
extern const WaitKindNames kWaitKindNames;            // wait_kind_name's table, indexed by WaitKind
void write_thread_name(Writer& w, const Thread* t);   // thread 3 "name"
void write_thread_state(Writer& w, const Thread* t);  // running, waiting on mutex 0x... held by ...
void write_creation(Writer& w, const Thread* t);      // "  created by thread 1 \"main\" at ...\n"
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
const char* lock_kind_name(LockKind kind);  // "mutex", "rwlock", "condvar", ...
// A global or static object's symbol and place, "a (dl+0x40a0)"; false
// (nothing written) for any other memory.
bool write_lock_symbol(Writer& w, const void* object);
// One line per lock t holds: "    holds mutex a (dl+0x40a0), locked at <frame>".
void write_held_locks(Writer& w, const Thread* t);
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
// The rule itself: `b` from its first frame in the program's own code. The
// leading frames of ptshim and libc are dropped and, with `cxx_runtime`,
// those of libstdc++ and libgcc_s too (an exception's throw, terminate and
// unwinder frames); all of `b` when nothing else is left.
Backtrace from_program_frames(const Backtrace& b, bool cxx_runtime);
// Runs of a repeating pattern are collapsed, and the outermost frames are
// always shown.
void write_backtrace(Writer& w, const Backtrace& b);
// One code address: "0x... symbol+0x.. (object)"; `exact`: not a return address.
void write_frame(Writer& w, uintptr_t pc, bool exact);
// A call site on one line ("created by ... at", "locked at"): the frame, with
// the program's own line where the call was inlined into a library
// template's function (a lambda inlined into std::thread's _M_run).
void write_site(Writer& w, uintptr_t return_address);
void write_symbol(Writer& w, const char* symbol);  // demangled when it is a C++ name
void unwind_prepare();
size_t unwind_running(uintptr_t* pcs, size_t max);
size_t unwind_saved(const arch::Context* context, uintptr_t* pcs, size_t max);
// The loaded object one of whose PT_LOAD segments holds `address`
// (dl_iterate_phdr): its path (/proc/self/exe's for the program), load bias,
// program headers (ElfW(Phdr), phnum of them) and that segment's p_flags.
struct LoadedObject {
  const char* path;
  uintptr_t bias;
  const void* phdrs;
  uint16_t phnum;
  uint32_t segment_flags;
};
bool loaded_object_of(uintptr_t address, LoadedObject* out);
const char* object_of(uintptr_t pc);     // base name of the loaded object
uintptr_t object_base_of(uintptr_t pc);  // its load address (0: none)
// The function containing pc: the objects' own tables first (below), then
// libunwind's name where they have none; never a symbol that ends before pc.
bool symbol_of(uintptr_t pc, char* name, size_t size, uintptr_t* offset);

// ---- what reports name a thread after (callable_name.cc, creation_site.cc) -----------------
// At creation (core/thread): for a std::thread (jthread, async), when
// `start` is libstdc++'s start routine and `arg` its state, records the
// state's vtable and the function a pointer callable holds in t. One
// comparison once the start routine is known, and a load or two.
void callable_record(Thread* t, void* (*start)(void*), void* arg);
// The callable a thread with a state_vtable runs ("main::{lambda()#1}",
// "t1()", "app::Worker::run()"); false: none known.
bool write_callable_name(Writer& w, const Thread* t);
// At pthread_create (`frame`: its __builtin_frame_address(0); `created_at`:
// its return address): the first return address of the calling stack in
// the program's own code, skipping runtime libraries and std:: templates;
// created_at when there is none.
uintptr_t creation_site(uintptr_t created_at, const void* frame);
// Reads memory that may not be mapped or readable: false instead of a fault.
bool read_memory(uintptr_t address, void* out, size_t size);

// ---- C++ names (demangle.cc) ---------------------------------------------------------------
// libiberty's demangler, which allocates nothing, on a stack of its own
// (reserved by demangle_reserve at start-up). Each writes the demangled name
// into `out` (NUL-terminated, cut to `size`) and returns its length, or 0
// when there is nothing to demangle: `symbol` is not an _Z name, `type_name`
// (as type_info::name() gives it: "St13runtime_error") is not a type.
void demangle_reserve();
size_t demangle(const char* symbol, char* out, size_t size);
size_t demangle_type(const char* type_name, char* out, size_t size);
// The standard library's long spellings written as people write them
// (std::string for std::__cxx11::basic_string<char, ...>), in place; the new length.
size_t abbreviate_std_names(char* text, size_t len);

// ---- lock order (lock_order.cc) -------------------------------------------------------------
// PTSHIM_LOCK_ORDER=1 (docs/design.md, "Lock order"): the shim tells this
// file of every lock it initialises, takes and releases for the program,
// and a cycle of lock classes that can deadlock is reported once, as a
// warning. Off, each hook is one test of g_lock_order on the slow path, and
// the lock fast paths are unchanged (mark_scheduler_thread turns them off
// when it is on).
extern bool g_lock_order;  // set once at start-up by lock_order_start
void lock_order_start();
void lock_order_init(const void* lock, LockKind kind);  // its class: the caller's site
void lock_order_forget(const void* lock);               // destroyed
// try_only: a trylock, from which later edges start but into which none goes.
void lock_order_acquired(const void* lock, LockKind kind, bool write, bool try_only);
void lock_order_released(const void* lock);
// The shim's hooks, around its core calls: `err` is the call's result (only
// a success counts) and `nested` its ShimEntry's (a call from inside the
// core, libunwind's own locks, is not the program's).
inline int lock_order_locked(int err, bool nested, const void* lock, LockKind kind, bool write,
                             bool try_only) {
  if (__builtin_expect(g_lock_order, 0) && err == 0 && !nested && !g_reporting) {
    lock_order_acquired(lock, kind, write, try_only);
  }
  return err;
}
inline int lock_order_unlocked(int err, bool nested, const void* lock) {
  if (__builtin_expect(g_lock_order, 0) && err == 0 && !nested && !g_reporting) {
    lock_order_released(lock);
  }
  return err;
}
inline void lock_order_destroyed(bool nested, const void* lock) {
  if (__builtin_expect(g_lock_order, 0) && !nested) lock_order_forget(lock);
}

// ---- source lines (symbolizer.cc) --------------------------------------------------------------
// From an external symbolizer (PTSHIM_SYMBOLIZER), within a time limit per
// answer and per report; nothing when there is none, it is late or broken.
void symbolizer_prepare();       // at start-up: the environment the symbolizer gets
void symbolizer_report_begin();  // a report begins: its symbolizer time starts
// " /src/ovf.cc:5:52" after a frame: where in the frame's own function
// `lookup_pc` (the pc, or a return address - 1) is.
void write_source(Writer& w, uintptr_t lookup_pc);
// The same for the innermost inlined level not in a system header: the
// program's own line, for a site written on one line.
void write_program_source(Writer& w, uintptr_t lookup_pc);
// The functions inlined at `lookup_pc`, outermost first, one line each
// ("<indent>inlined here: app::inner(int) /src/ovf.cc:3:7\n"); the pc is
// in the last one.
void write_inlined(Writer& w, uintptr_t lookup_pc, const char* indent);

// ---- symbols from the objects' own tables (elf_symbols.cc) --------------------------------
// .symtab, else the separate debug file's (build-id, .gnu_debuglink), else
// .dynsym; files mapped once, tables indexed at their first lookup.
void elf_symbols_prepare();  // start-up: the program's path, the index region
// The function (STT_FUNC, STT_GNU_IFUNC, STT_NOTYPE in code) containing pc.
bool code_symbol_of(uintptr_t pc, char* name, size_t size, uintptr_t* offset);
// The object (STT_OBJECT: globals, statics, function-local statics) containing addr.
bool data_symbol_of(const void* addr, char* name, size_t size, uintptr_t* offset);
// pc's object has tables this reader read, and no MiniDebugInfo: when
// code_symbol_of finds nothing there, no other source has a right name.
bool symbol_tables_final(uintptr_t pc);
// For the unit test: the symbol containing vaddr in an ELF image in memory,
// by the index and by a scan of the table: 1 found, 0 none, -1 they disagree.
int elf_image_symbol(const void* image, size_t size, uint64_t vaddr, bool code, char* name,
                     size_t name_size, uint64_t* offset);

// ---- the debugger view (debugger_view.cc, gdb_autoload.cc) ---------------------------------
// What scripts/gdb/ptshim_gdb reads to show user threads in gdb, on a live
// process or a core, without the library's DWARF and without running code
// here: named numbers (a Thread field's offset, an enum's value, a global's
// address), in the exported constant ptshim_debugger_view. A debugger finds
// a value by its key; a key it needs and does not find, or another version,
// means the library and the extension do not match (docs/design.md,
// "The debugger view").
inline constexpr uint32_t kDebuggerViewVersion = 1;
struct DebuggerViewEntry {
  char key[40];
  const void* address;  // the value is address + number (one of them is 0)
  uint64_t number;
};
struct DebuggerViewHeader {  // the entries follow it
  char magic[8];             // "ptshimDV"
  uint32_t version;
  uint32_t count;
  uint32_t entry_size;
  uint32_t header_size;
};

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
// stats_text.cc: PTSHIM_STATS=1's block at exit, each process its own.
void stats_print_at_exit();
// A preemption PTSHIM_PREEMPT_SHOW names: both threads and their stacks.
void report_preemption(uint64_t number, const Thread* from, const Thread* to);
// exception.cc: uncaught C++ exceptions. At start-up, when the program has
// libstdc++: its exception functions, and ptshim's terminate handler in front
// of the program's (it notes what() and calls the one it displaced).
void exception_reports_install();
// From the SIGABRT report: when std::terminate is aborting thread `t` with
// an exception current, writes the report's heading and the throw's stack
// and returns true; otherwise writes nothing. Runs no program code.
bool write_terminate_report(Writer& w, const Thread* t, const void* ucontext);
// dump.cc: all threads, from the dump signal's handler (ucontext) or from
// the safe point after it arrived while the core was busy.
void dump_threads(const void* ucontext);
void take_deferred_dump();

}  // namespace ptshim
