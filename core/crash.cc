// Fatal signals, stack overflows and thread dumps.
//
// ptshim keeps its own handler installed for SIGSEGV, SIGBUS, SIGFPE, SIGILL,
// SIGABRT, the dump signal (SIGQUIT, or PTSHIM_DUMP_SIGNAL) and SIGALRM; the
// program's sigaction/signal calls for them
// are recorded instead (shim/sigaction.cc), and the handler chains to them:
// - a fault the program handles itself goes to the program's handler, except
//   a stack overflow, which is reported first (then the program's handler
//   runs, and may recover by longjmp);
// - otherwise a report is written and the process dies by the same signal
//   (default action restored, signal raised again), so the exit status and
//   core dumps are as without the shim;
// - the dump signal under the default action prints every thread and goes on.
//
// The handlers run on an alternate signal stack (an overflowed stack has no
// room left). A report allocates nothing and uses no stdio: PCs go to a
// buffer reserved at start-up, text to write(2). libunwind was warmed up at
// start-up; its locks are the shim's mutexes, passed over while g_reporting.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/runtime.h"

namespace ptshim {

namespace {
constexpr int kFaults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
// Measured: unw_backtrace through 260,000 frames used 8 KiB of signal stack;
// symbol lookups (ELF and minidebuginfo reads) need more. Generous, lazily
// committed.
constexpr size_t kAltStackSize = 256 * 1024;
constexpr size_t kMaxFrames = size_t{1} << 20;  // 8 MiB of PCs, reserved
// A fault this far below a guard region still counts as an overflow: a large
// frame can step over a one-page guard.
constexpr uintptr_t kOverflowSlack = 64 * 1024;

struct sigaction g_program[NSIG];  // what the program asked for (or inherited)
uintptr_t* g_pcs;
volatile int g_dying;
uintptr_t g_main_stack_lo;  // lowest address the main stack may grow to
void* g_alt_stack_top;      // the signal stack's; also where overflow reports run
uintptr_t g_main_stack_hi;

int dump_signal() { return options().dump_signal; }

bool is_managed(int sig) {
  for (int s : kFaults) {
    if (s == sig) return true;
  }
  return sig == dump_signal() || sig == SIGALRM;
}

bool program_has_handler(int sig) {
  const struct sigaction& a = g_program[sig];
  return (a.sa_flags & SA_SIGINFO) != 0 || (a.sa_handler != SIG_DFL && a.sa_handler != SIG_IGN);
}

void call_program_handler(int sig, siginfo_t* info, void* ucontext) {
  struct sigaction a = g_program[sig];
  if ((a.sa_flags & SA_RESETHAND) != 0) {
    memset(&g_program[sig], 0, sizeof g_program[sig]);
    g_program[sig].sa_handler = SIG_DFL;
  }
  if ((a.sa_flags & SA_SIGINFO) != 0) {
    a.sa_sigaction(sig, info, ucontext);
  } else {
    a.sa_handler(sig);
  }
}

// The default action, taken when the handler returns (the signal is blocked
// until then); a fault instruction simply faults again.
void die_by(int sig) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  __sigaction(sig, &dfl, nullptr);
  arch::raw_syscall(SYS_tgkill, arch::raw_syscall(SYS_getpid), arch::raw_syscall(SYS_gettid), sig);
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGABRT:
      return "SIGABRT";
    default:
      return "signal";
  }
}

const char* fault_kind(int sig, int code) {
  if (sig == SIGSEGV && code == SEGV_MAPERR) return "address not mapped";
  if (sig == SIGSEGV && code == SEGV_ACCERR) return "access not permitted";
  if (sig == SIGBUS && code == BUS_ADRALN) return "misaligned address";
  if (sig == SIGBUS && code == BUS_ADRERR) return "no such physical address";
  if (sig == SIGFPE && code == FPE_INTDIV) return "integer divide by zero";
  if (sig == SIGFPE && code == FPE_INTOVF) return "integer overflow";
  if (sig == SIGILL && code == ILL_ILLOPC) return "illegal opcode";
  return nullptr;
}

// The running thread, if the fault came from the scheduler's kernel thread.
Thread* faulting_thread() { return tls_on_scheduler_thread ? current() : nullptr; }

// A fault just below the stack; or, for a stack without a guard (whose
// overflow may run through other memory before it faults), any fault while
// the stack pointer is below the stack or within its lowest page.
bool is_stack_overflow(const Thread* t, uintptr_t addr, uintptr_t sp) {
  if (t == nullptr) return false;
  if (t->is_main) return addr >= g_main_stack_lo - kOverflowSlack && addr < g_main_stack_hi;
  auto lo = reinterpret_cast<uintptr_t>(t->stack_lo);
  if (t->guard_size == 0 && stack_overflowed(t, sp - page_size())) return true;
  return addr < lo && addr + t->guard_size + kOverflowSlack >= lo;
}

void write_size(Writer& w, size_t bytes) {
  if (bytes % (1024 * 1024) == 0) {
    w.dec(bytes / (1024 * 1024)).str(" MiB");
  } else {
    w.dec(bytes / 1024).str(" KiB");
  }
}

void write_stack_facts(Writer& w, const Thread* t, uintptr_t fault) {
  uintptr_t lo, hi, guard_lo;
  if (t->is_main) {
    lo = guard_lo = g_main_stack_lo;
    hi = g_main_stack_hi;
  } else {
    lo = reinterpret_cast<uintptr_t>(t->stack_lo);
    hi = lo + t->stack_size;
    guard_lo = lo - t->guard_size;
  }
  w.str("  stack ").hex(lo).chr('-').hex(hi).str(" (");
  write_size(w, hi - lo);
  w.str(")");
  if (!t->is_main && t->guard_size != 0) {
    w.str(", guard ").hex(guard_lo).chr('-').hex(lo).str(" (");
    write_size(w, lo - guard_lo);
    w.str(")");
  } else if (!t->is_main) {
    w.str(", no guard page");
  }
  if (fault != 0) w.str(", fault address ").hex(fault);
  w.chr('\n');
  if (t->is_main) {
    w.str("  to raise the limit: ulimit -s (RLIMIT_STACK) before starting the program\n");
  } else {
    w.str(
        "  to raise the limit: pthread_attr_setstacksize() where the thread is created, or "
        "PTSHIM_STACK_SIZE=");
    size_t doubled = 2 * (hi - lo);
    if (doubled % (1024 * 1024) == 0) {
      w.dec(doubled / (1024 * 1024)).str("m");
    } else {
      w.dec(doubled / 1024).str("k");
    }
    w.str(" for threads created without a size\n");
  }
}

void write_creation(Writer& w, const Thread* t) {
  if (t->is_main || t->created_at == 0) return;
  w.str("  created by thread ").dec(t->creator_number).str(" at ");
  char symbol[160];
  uintptr_t offset;
  w.hex(t->created_at).chr(' ');
  if (symbol_of(t->created_at - 1, symbol, sizeof symbol, &offset)) {
    w.str(symbol).str("+").hex(offset + 1);
  } else {
    w.str("??");
  }
  w.str(" (").str(object_of(t->created_at)).str(")\n");
}

// The running thread's frames, starting at the interrupted instruction.
size_t interrupted_frames(const void* ucontext, uintptr_t** first) {
  size_t n = unwind_running(g_pcs, kMaxFrames);
  uintptr_t pc = arch::interrupted_pc(ucontext);
  for (size_t i = 0; i < n; ++i) {
    if (g_pcs[i] == pc) {
      *first = g_pcs + i;
      return n - i;
    }
  }
  *first = g_pcs;
  return n;
}

void report_fault(int sig, siginfo_t* info, void* ucontext, bool overflow) {
  Thread* t = faulting_thread();
  uintptr_t fault = arch::fault_address(info);
  Writer w;
  as_report(w);
  if (overflow) {
    w.str("ptshim: stack overflow in ");
    write_thread_name(w, t);
    w.chr('\n');
    write_stack_facts(w, t, fault);
  } else {
    w.str("ptshim: ").str(signal_name(sig));
    if (const char* kind = fault_kind(sig, info->si_code)) w.str(" (").str(kind).str(")");
    if (sig != SIGABRT) w.str(" at ").hex(fault);
    w.str(" in ");
    if (t != nullptr) {
      write_thread_name(w, t);
    } else {
      w.str("kernel thread ")
          .sdec(arch::raw_syscall(SYS_gettid))
          .str(", which ptshim does not run");
    }
    w.chr('\n');
  }
  if (options().backtraces) {
    uintptr_t* first;
    size_t n = interrupted_frames(ucontext, &first);
    w.str("  backtrace, innermost first:\n");
    write_backtrace(w, first, n, true);
  }
  if (t != nullptr) write_creation(w, t);
}

}  // namespace

namespace {
struct OverflowReport {
  Thread* thread;
  const void* ucontext;
};

void write_unguarded_overflow(void* arg) {
  auto* report = static_cast<OverflowReport*>(arg);
  Thread* t = report->thread;
  const void* ucontext = report->ucontext;
  {
    Writer w;
    as_report(w);
    w.str("ptshim: stack overflow in ");
    write_thread_name(w, t);
    w.str(", found at a ").str(ucontext != nullptr ? "timer tick" : "context switch").chr('\n');
    write_stack_facts(w, t, 0);
    w.str("  this stack has no guard page, so the overflow did not fault where it began: ");
    if (t->map_base == nullptr) {
      w.str("the program provided the stack (pthread_attr_setstack)");
    } else {
      w.str("more stacks were live than PTSHIM_GUARDED_STACKS=").dec(options().guarded_stacks);
    }
    w.str("; memory below the stack may be damaged\n");
    if (options().backtraces) {
      uintptr_t* first = g_pcs;
      size_t n = ucontext != nullptr ? interrupted_frames(ucontext, &first)
                                     : unwind_running(g_pcs, kMaxFrames);
      if (ucontext == nullptr) {
        size_t skip = skip_scheduler_frames(first, n);
        first += skip;
        n -= skip;
      }
      w.str("  backtrace, innermost first:\n");
      write_backtrace(w, first, n, ucontext != nullptr);
    }
    write_creation(w, t);
  }
}
}  // namespace

void report_unguarded_overflow(Thread* t, const void* ucontext) {
  g_dying = 1;
  g_in_core = 1;  // never switch threads from here on
  g_reporting = 1;
  // Not on the overflowed stack: the unwinder and the writer need room, and
  // below the stack pointer lies another thread's memory or nothing.
  OverflowReport report{t, ucontext};
  arch::call_on_stack(write_unguarded_overflow, &report, g_alt_stack_top);
  die_by(SIGSEGV);
  __builtin_trap();  // not reached: SIGSEGV is never blocked in the kernel
}

namespace {
volatile int g_dump_pending;

// From the dump signal's handler (with its ucontext) or, when it arrived
// while the core was busy, from the next safe point (ucontext null).
void dump_threads(const void* ucontext) {
  int outer_core = g_in_core;
  g_in_core = 1;  // no preemption while the dump is written
  g_reporting = 1;
  {
    Writer w;
    as_report(w);
    w.str("ptshim: thread dump (").str(options().dump_signal_name).str("), ");
    w.dec(live_thread_count()).str(" live thread(s):\n");
    uintptr_t* first = g_pcs;
    size_t n = 0;
    if (options().backtraces) {
      if (ucontext != nullptr) {
        n = interrupted_frames(ucontext, &first);
      } else {
        n = unwind_running(g_pcs, kMaxFrames);
        size_t skip = 0;
        while (skip + 1 < n && strncmp(object_of(g_pcs[skip]), "libptshim", 9) == 0) ++skip;
        first = g_pcs + skip;
        n -= skip;
      }
    }
    write_thread_dump(w, first, n);
    w.str("ptshim: end of thread dump\n");
  }
  g_reporting = 0;
  g_in_core = outer_core;
}

void on_fatal_signal(int sig, siginfo_t* info, void* ucontext) {
  int saved_errno = errno;
  if (g_dying) {  // a fault while reporting one
    die_by(sig);
    return;
  }
  bool overflow = (sig == SIGSEGV || sig == SIGBUS) &&
                  is_stack_overflow(faulting_thread(), arch::fault_address(info),
                                    arch::interrupted_sp(ucontext));
  bool dump = sig == dump_signal();
  if (dump || (sig == SIGABRT && g_program[sig].sa_handler == SIG_IGN)) {
    if (program_has_handler(sig)) {
      call_program_handler(sig, info, ucontext);
    } else if (dump && g_program[sig].sa_handler == SIG_DFL) {
      if (g_in_core) {
        // Core state may be mid-update: dump at the next safe point.
        g_dump_pending = 1;
        preempt_pending = 1;
      } else {
        dump_threads(ucontext);
      }
    }
    errno = saved_errno;
    return;
  }
  if (program_has_handler(sig) && !overflow) {
    call_program_handler(sig, info, ucontext);
    errno = saved_errno;
    return;
  }
  int outer_core = g_in_core;
  g_dying = 1;
  g_in_core = 1;  // never switch threads from here on
  g_reporting = 1;
  report_fault(sig, info, ucontext, overflow);
  if (overflow && program_has_handler(sig)) {
    // The program's handler may recover (siglongjmp): leave things as found.
    g_dying = 0;
    g_reporting = 0;
    g_in_core = outer_core;
    call_program_handler(sig, info, ucontext);
    return;
  }
  die_by(sig);
}

void find_main_stack() {
  // The [stack] mapping's top, from /proc/self/maps; its floor is RLIMIT_STACK
  // below (the kernel grows it on demand up to there).
  int fd = static_cast<int>(
      arch::raw_syscall(SYS_open, reinterpret_cast<long>("/proc/self/maps"), O_RDONLY));
  if (fd < 0) return;
  static char text[64 * 1024];
  size_t len = 0;
  for (;;) {
    long n = arch::raw_syscall(SYS_read, fd, reinterpret_cast<long>(text + len),
                               static_cast<long>(sizeof text - 1 - len));
    if (n <= 0) break;
    len += static_cast<size_t>(n);
  }
  arch::raw_syscall(SYS_close, fd);
  text[len] = '\0';
  char* line = strstr(text, "[stack]");
  if (line == nullptr) return;
  while (line > text && line[-1] != '\n') --line;
  uintptr_t lo = 0, hi = 0;
  char* p = line;
  for (; *p != '-'; ++p)
    lo = lo * 16 + static_cast<uintptr_t>(*p <= '9' ? *p - '0' : *p - 'a' + 10);
  for (++p; *p != ' '; ++p)
    hi = hi * 16 + static_cast<uintptr_t>(*p <= '9' ? *p - '0' : *p - 'a' + 10);
  rlimit limit;
  uintptr_t max = size_t{8} << 20;
  if (getrlimit(RLIMIT_STACK, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) max = limit.rlim_cur;
  g_main_stack_hi = hi;
  g_main_stack_lo = hi - max < lo ? hi - max : lo;
}
}  // namespace

void main_stack_bounds(uintptr_t* lo, uintptr_t* hi) {
  *lo = g_main_stack_lo;
  *hi = g_main_stack_hi;
}

void crash_take_pending_dump() {
  if (!g_dump_pending) return;
  g_dump_pending = 0;
  int saved_errno = errno;  // the dump runs on the program's thread
  dump_threads(nullptr);
  errno = saved_errno;
}

bool signal_is_managed(int sig) { return sig > 0 && sig < NSIG && is_managed(sig); }

void program_action_get(int sig, struct sigaction* old) { *old = g_program[sig]; }

void program_action_set(int sig, const struct sigaction* act) { g_program[sig] = *act; }

void crash_handlers_install() {
  void* pcs = mmap(nullptr, kMaxFrames * sizeof(uintptr_t), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  void* alt = mmap(nullptr, kAltStackSize + page_size(), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (pcs == MAP_FAILED || alt == MAP_FAILED) fatal("ptshim: cannot map the crash-report buffers");
  g_pcs = static_cast<uintptr_t*>(pcs);
  mprotect(alt, page_size(), PROT_NONE);  // the signal stack's own guard
  stack_t ss;
  ss.ss_sp = static_cast<char*>(alt) + page_size();
  ss.ss_size = kAltStackSize;
  g_alt_stack_top = static_cast<char*>(ss.ss_sp) + ss.ss_size;
  ss.ss_flags = 0;
  arch::raw_syscall(SYS_sigaltstack, reinterpret_cast<long>(&ss), 0);
  find_main_stack();
  unwind_prepare();
  __sigaction(SIGALRM, nullptr, &g_program[SIGALRM]);  // core/preempt.cc installs its own
  int handled[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, dump_signal()};
  for (int sig : handled) {
    __sigaction(sig, nullptr, &g_program[sig]);  // inherited: SIG_IGN survives exec
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    __sigaction(sig, &sa, nullptr);
  }
}

}  // namespace ptshim
