// core/base: what every other subsystem may use and which uses none of them —
// options, the internal allocator, time and deadlines, the raw report writer
// and the one way ptshim dies by a signal.
//
// Invariants: nothing here touches a thread, a queue or the core section, so
// every function may be called from anywhere, including signal handlers
// (except parse_options_or_exit, which runs once at start-up, and the
// allocator, which is called only inside the core section).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>

#include "arch/arch.h"

struct sigaction;
// glibc's own entry point: sigaction may one day be interposed, and ptshim's
// internal use must never reach its own definition.
extern "C" int __sigaction(int, const struct sigaction*, struct sigaction*);

namespace ptshim {

// ---- options (options.cc) -------------------------------------------------------
// PTSHIM_DEADLOCK. kAuto: fatal only when nothing in the process can end
// the wait, a warning (and the wait goes on) when a signal still may.
enum class DeadlockMode : uint8_t { kAuto, kAbort, kWarn };
// PTSHIM_MISUSE: what an API misuse warning does (core/diag, "Misuse").
enum class MisuseMode : uint8_t { kWarn, kAbort, kOff };
// PTSHIM_SCHED: who chooses the next thread (core/sched/policy_*.cc).
enum class SchedKind : uint8_t { kFifo, kRandom, kPct };
inline constexpr int kPctDefaultDepth = 3;
inline constexpr int kPctMaxDepth = 32;

struct Options {
  uint64_t timeslice_ns;         // PTSHIM_TIMESLICE; 0: cooperative, no timer
  size_t default_stack_size;     // PTSHIM_STACK_SIZE, bytes
  size_t guarded_stacks;         // PTSHIM_GUARDED_STACKS: live stacks that get a guard page
  bool shared_tls;               // PTSHIM_TLS=shared: one control block for all threads
  arch::SwitchKind switch_kind;  // PTSHIM_SWITCH: fast (default) or ucontext
  bool backtraces;               // PTSHIM_BACKTRACE=0 turns them off in reports
  int report_fd;                 // PTSHIM_REPORT=path: reports go there too; -1: stderr only
  int dump_signal;               // PTSHIM_DUMP_SIGNAL: prints all threads (default SIGQUIT)
  const char* dump_signal_name;
  DeadlockMode deadlock;  // PTSHIM_DEADLOCK: what a deadlock report does (core/diag)
  // Reports (docs/design.md, "Reports").
  const char* symbolizer;  // PTSHIM_SYMBOLIZER=path; null: llvm-symbolizer or addr2line if found
  bool symbolizer_off;     // PTSHIM_SYMBOLIZER=none: function+offset only, no process started
  MisuseMode misuse;       // PTSHIM_MISUSE: warn (default), abort or off
  bool lock_order;         // PTSHIM_LOCK_ORDER=1: lock-order cycles are reported
  bool stats;              // PTSHIM_STATS=1: the statistics block at exit
  // PTSHIM_TRACE=FILE: the schedule's timeline (core/sched/trace.cc) is
  // written to FILE, opened (not truncated yet) here; -1: none.
  int trace_fd;
  const char* trace_path;
  // PTSHIM_DEBUG_FILE_DIRECTORY: where separate debug files are looked for,
  // colon-separated (gdb's debug-file-directory); null: /usr/lib/debug.
  const char* debug_file_directory;
  // Seeded schedules (docs/design.md, "Seeded schedules").
  SchedKind sched;           // PTSHIM_SCHED: fifo (default), random, pct[:D]
  bool sched_given;          // PTSHIM_SCHED was set
  int pct_depth;             // the D of pct:D, 1..kPctMaxDepth
  bool seeded;               // a seed drives the schedule (given, or drawn at start-up)
  bool seed_given;           // PTSHIM_SEED was set
  uint64_t seed;             // PTSHIM_SEED
  int8_t virtual_time;       // PTSHIM_VIRTUAL_TIME: 0, 1; -1: not set (on when seeded)
  bool spurious_wakeups;     // PTSHIM_SPURIOUS_WAKEUPS=1: condvar waits may return unsignalled
  bool schedule_digest;      // PTSHIM_SCHEDULE_DIGEST=1 (or seeded): the line at exit
  uint64_t pct_steps;        // PTSHIM_PCT_STEPS: scheduling points PCT spreads its changes over
  const char* preempt_skip;  // PTSHIM_PREEMPT_SKIP: preemptions not taken (explore --minimize)
  const char* preempt_show;  // PTSHIM_PREEMPT_SHOW: preemptions whose stacks are printed
};
// The defaults. The guard budget comes from vm.max_map_count (core/thread).
Options default_options(size_t guarded_stacks);
// Parses one PTSHIM_* variable into `o`. Null when the value is good;
// otherwise why it is not (the text after "NAME=value: "). An unknown name
// is not an error here: only the known ones are looked up.
const char* parse_option(const char* name, const char* value, Options* o);
// The variables parse_option knows, in the order they are read.
size_t option_count();
const char* option_name(size_t i);
const Options& options();
// Reads the environment once; a bad value prints one line naming it and
// exits with status 2. Then settles what the variables imply together: a
// seed alone means PTSHIM_SCHED=random; random or pct without a seed draws
// one (printed at exit, so the run can be replayed); a seed turns virtual
// time and the digest on unless they were set.
void parse_options_or_exit(size_t guarded_stacks);
// The rules above, on options parsed by parse_option; `drawn_seed` is used
// when random or pct lacks one.
void settle_options(Options* o, uint64_t drawn_seed);
bool virtual_time_on();  // options().virtual_time, settled

// ---- internal memory (alloc.cc): never malloc ---------------------------------------
void* internal_alloc_zeroed(size_t size);  // dies on exhaustion
size_t internal_alloc_size(size_t size);   // the block internal_alloc_zeroed(size) gives
void internal_free(void* p, size_t size);
size_t page_size();
// A growing array of pointers: twice the room (`first` slots when it has
// none), the `used` ones kept, the old block freed. Updates *capacity.
template <typename T>
T** internal_grow(T** items, size_t used, size_t* capacity, size_t first) {
  size_t grown = *capacity == 0 ? first : *capacity * 2;
  auto** bigger = static_cast<T**>(internal_alloc_zeroed(grown * sizeof(T*)));
  for (size_t i = 0; i < used; ++i) bigger[i] = items[i];
  if (items != nullptr) internal_free(items, *capacity * sizeof(T*));
  *capacity = grown;
  return bigger;
}

// ---- time (time.cc) -----------------------------------------------------------------
// Every deadline in ptshim is nanoseconds on CLOCK_MONOTONIC; 0 means "none".
// Under virtual time that clock is the virtual one (below).
inline constexpr uint64_t kNsPerSec = 1000000000u;

// Virtual time (PTSHIM_VIRTUAL_TIME, docs/design.md §4.12): a logical
// CLOCK_MONOTONIC that only ptshim moves. A program's clock read advances it
// by kVirtualReadQuantumNs; core/sched moves it to the earliest deadline when
// nothing can run (idle: no thread's CPU time) or when a thread ran a whole
// real slice without a scheduling point (busy: the running thread's). Every
// other clock is derived from it, from fixed start values.
struct VirtualClock {
  // The clock ids clock_gettime hands straight to glibc's lie below this:
  // 2^31, every non-negative one, without virtual time; 0 under it. One
  // compare with memory, in place of the sign test it replaces.
  uint32_t kernel_clocks_below;
  bool on;                    // set once at start-up (virtual_time_start)
  uint64_t now_ns;            // CLOCK_MONOTONIC
  uint64_t idle_ns;           // of what it advanced, the part no thread ran
  uint64_t process_start_ns;  // virtual_busy_ns() when this process started (or forked)
};
extern VirtualClock g_virtual_clock;
inline constexpr uint64_t kVirtualMonotonicStartNs = 1000 * kNsPerSec;
inline constexpr uint64_t kVirtualRealtimeStartNs = 1767225600 * kNsPerSec;  // 2026-01-01 UTC
inline constexpr uint64_t kTaiOffsetNs = 37 * kNsPerSec;                     // TAI - UTC
inline constexpr uint64_t kVirtualReadQuantumNs = 1000;
// A deadline further away than this is "forever" to the jumps (a
// sleep(UINT_MAX) that waits for a signal): the clock never jumps to it.
inline constexpr uint64_t kVirtualHorizonNs = 10ull * 366 * 86400 * kNsPerSec;
inline bool virtual_deadline_reachable(uint64_t deadline_ns) {
  return deadline_ns - g_virtual_clock.now_ns < kVirtualHorizonNs ||
         deadline_ns <= g_virtual_clock.now_ns;
}
void virtual_time_start();                // after the options, when virtual_time_on()
void virtual_time_after_fork_in_child();  // the process CPU clock starts again at 0
// Moves the clock forward to `ns` (never back); `idle`: no thread ran meanwhile.
void virtual_time_advance_to(uint64_t ns, bool idle);
// The virtual time that passed while some thread ran: the stamp of virtual CPU time.
inline uint64_t virtual_busy_ns() { return g_virtual_clock.now_ns - g_virtual_clock.idle_ns; }
// This process's CPU time: all its threads', since it started or forked.
inline uint64_t virtual_process_cpu_ns() {
  return virtual_busy_ns() - g_virtual_clock.process_start_ns;
}
// A program's read of `clock`: advances the clock by the quantum and gives
// the clock's value. False for a clock that is not derived from it (a thread
// CPU clock, another process's, an unknown id: the caller reads those after
// the advance).
bool virtual_clock_read(clockid_t clock, uint64_t* ns);

uint64_t real_monotonic_now_ns();     // the kernel's CLOCK_MONOTONIC (vDSO), always
inline uint64_t monotonic_now_ns() {  // the clock deadlines are on (vDSO when not virtual)
  if (__builtin_expect(g_virtual_clock.on, 0)) return g_virtual_clock.now_ns;
  return real_monotonic_now_ns();
}
// glibc's own clock_gettime (the vDSO for the ordinary clocks), never the
// one ptshim exports.
int libc_clock_gettime(clockid_t clock, timespec* ts);
inline timespec timespec_from_ns(uint64_t ns) {
  return timespec{static_cast<time_t>(ns / kNsPerSec), static_cast<long>(ns % kNsPerSec)};
}
inline uint64_t ns_from_timespec(const timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * kNsPerSec + static_cast<uint64_t>(ts.tv_nsec);
}
inline bool timespec_is_valid(const timespec* ts) {
  return ts->tv_nsec >= 0 && ts->tv_nsec < static_cast<long>(kNsPerSec);
}
// The clocks of the timed waits (mutex, condvar, rwlock, semaphore: glibc's
// futex-based waits accept these two).
bool clock_is_waitable(clockid_t clock);
// The clocks clock_nanosleep sleeps on in the scheduler: the waitable ones
// plus CLOCK_BOOTTIME and CLOCK_TAI.
bool clock_is_sleepable(clockid_t clock);
// An absolute time on a sleepable `clock` to a deadline (at least 1, so a
// time long past is still a deadline). 0 or EINVAL (bad timespec or clock).
// A CLOCK_REALTIME time is converted once: a later clock change does not
// move the deadline.
int deadline_from_abstime(clockid_t clock, const timespec* abstime, uint64_t* deadline_ns);
int deadline_from_relative(const timespec* interval, uint64_t* deadline_ns);  // 0 or EINVAL

// ---- writing reports and dying (write.cc, die.cc): raw write(2), no stdio -------------
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
// A Writer for reports: stderr, and the PTSHIM_REPORT file if one was named.
inline Writer& as_report(Writer& w) {
  w.copy_fd = options().report_fd;
  return w;
}
// The one way ptshim ends the process by a signal, so that the exit status
// and any core dump are the signal's: the default action is restored and
// the signal sent to this kernel thread. Inside a handler of `sig` (which
// the kernel blocks there) death comes when the handler returns, and the
// caller returns at once; elsewhere before this function returns.
void raise_with_default_action(int sig);
// Called first by raise_with_default_action for a signal whose default
// action ends the process: what must be written before ptshim dies (the
// trace's end, core/sched); null: nothing.
extern void (*g_last_words)(int sig);
// Sends `sig` to this kernel thread (tgkill): its handler, if any, runs
// before this returns when the signal is unblocked.
void raise_on_this_thread(int sig);
// The same, unblocking `sig` first, so it never returns.
[[noreturn]] void die_by_signal(int sig);
// ptshim's own failure: the message, then death by SIGABRT without a report.
[[noreturn]] void fatal(const char* message);
// Ends the process at once with `status` (exit_group): no exit handlers, no
// destructors, and not through the program's _exit, which the shim defines.
[[noreturn]] void exit_process_now(int status);

}  // namespace ptshim
