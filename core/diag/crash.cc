// Fatal signals: faults, stack overflows, SIGABRT (an uncaught C++
// exception's in exception.cc), and the dump signal.
//
// ptshim keeps its own handler installed for the signals core/signal lists as
// reported (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) and for the dump signal;
// the program's sigaction/signal calls for them are recorded instead
// (core/signal/action.cc), and the handler chains to them:
// - a fault the program handles itself goes to the program's handler, except
//   a stack overflow, which is reported first (then the program's handler
//   runs, and may recover by longjmp);
// - otherwise a report is written and the process dies by the same signal,
//   so the exit status and core dumps are as without the shim;
// - the dump signal under the default action prints every thread and goes on;
// - a program handler for SIGABRT or the dump signal sent by kill() or a
//   timer, or raised for a thread by ptshim, is routed like any other
//   signal's (core/signal): the thread the kernel would choose runs it,
//   masks and pending sets apply, a waiting thread is woken.
//
// The handlers run on an alternate signal stack (an overflowed stack has no
// room left). libunwind was warmed up at start-up; its locks are the shim's
// mutexes, passed over while g_reporting.
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "core/diag/diag.h"
#include "core/signal/signal.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
// Measured: unw_backtrace through 260,000 frames used 8 KiB of signal stack;
// symbol lookups (ELF and minidebuginfo reads) need more. Generous, lazily
// committed.
constexpr size_t kAltStackSize = 256 * 1024;
// A fault this far below a guard region still counts as an overflow: a large
// frame can step over a one-page guard.
constexpr uintptr_t kOverflowSlack = 64 * 1024;

volatile int g_dying;
void* g_alt_stack_top;

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
  if (t->is_main) {
    uintptr_t lo, hi;
    main_stack_bounds(&lo, &hi);
    return addr >= lo - kOverflowSlack && addr < hi;
  }
  auto lo = reinterpret_cast<uintptr_t>(t->stack_lo);
  if (t->guard_size == 0 && stack_overflowed(t, sp - page_size())) return true;
  return addr < lo && addr + t->guard_size + kOverflowSlack >= lo;
}

void report_fault(int sig, siginfo_t* info, void* ucontext, bool overflow) {
  Thread* t = faulting_thread();
  uintptr_t fault = arch::fault_address(info);
  Writer w;
  as_report(w);
  if (sig == SIGABRT && !overflow && write_terminate_report(w, t, ucontext)) {
    write_creation(w, t);  // an uncaught C++ exception (exception.cc)
    write_schedule_record(w);
    return;
  }
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
    w.str("  backtrace, innermost first:\n");
    write_backtrace(w, backtrace_running(ucontext));
  }
  if (t != nullptr) write_creation(w, t);
  write_schedule_record(w);
}

// glibc's abort() raises SIGABRT at this kernel thread with its own raise
// (ptshim's interposes only the program's), after unblocking it in the
// kernel: the program's handler runs at once, on the running thread, as
// abort expects. So does one a raw tgkill of the program's sent.
bool raised_inside_libc(const siginfo_t* info) {
  return info->si_code == SI_TKILL && info->si_errno != kSignalMark &&
         info->si_pid == static_cast<pid_t>(arch::raw_syscall(SYS_getpid));
}

// The dump signal, or a SIGABRT the program ignores: never fatal.
void on_nonfatal_signal(int sig, siginfo_t* info, void* ucontext) {
  if (program_has_handler(sig)) {
    program_handler_call(sig, info, ucontext);
  } else if (sig == options().dump_signal && !program_ignores(sig)) {
    if (g_in_core) {
      // Core state may be mid-update: dump at the next safe point.
      g_deferred.dump = 1;
    } else {
      dump_threads(ucontext);
    }
  }
}

}  // namespace

void crash_signal(int sig, siginfo_t* info, void* ucontext) {
  int saved_errno = errno;
  if (g_dying) {  // a fault while reporting one
    raise_with_default_action(sig);
    return;
  }
  if (program_has_handler(sig) && signal_is_routed_when_handled(sig) && !raised_inside_libc(info)) {
    signal_forward_program_signal(sig, info, ucontext);  // to the thread that takes it
    errno = saved_errno;
    return;
  }
  if (sig == options().dump_signal || (sig == SIGABRT && program_ignores(sig))) {
    on_nonfatal_signal(sig, info, ucontext);
    errno = saved_errno;
    return;
  }
  bool overflow = (sig == SIGSEGV || sig == SIGBUS) &&
                  is_stack_overflow(faulting_thread(), arch::fault_address(info),
                                    arch::interrupted_sp(ucontext));
  if (program_has_handler(sig) && !overflow) {
    program_handler_call(sig, info, ucontext);
    errno = saved_errno;
    return;
  }
  int outer_core = g_in_core;
  fatal_report_begin();
  report_fault(sig, info, ucontext, overflow);
  if (overflow && program_has_handler(sig)) {
    // The program's handler may recover (siglongjmp): leave things as found.
    g_dying = 0;
    g_reporting = 0;
    g_in_core = outer_core;
    program_handler_call(sig, info, ucontext);
    return;
  }
  // Death comes as the handler returns (the signal is blocked until then);
  // a fault instruction simply faults again.
  raise_with_default_action(sig);
}

uint64_t g_fatal_report_ns;

void fatal_report_begin() {
  g_fatal_report_ns = monotonic_now_ns();
  g_dying = 1;
  g_in_core = 1;  // never switch threads from here on
  g_reporting = 1;
  symbolizer_report_begin();
}

void* report_stack_top() { return g_alt_stack_top; }

void crash_handlers_install() {
  backtrace_reserve();
  demangle_reserve();
  void* alt = mmap(nullptr, kAltStackSize + page_size(), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (alt == MAP_FAILED) fatal("ptshim: cannot map the signal stack");
  mprotect(alt, page_size(), PROT_NONE);  // the signal stack's own guard
  stack_t ss;
  ss.ss_sp = static_cast<char*>(alt) + page_size();
  ss.ss_size = kAltStackSize;
  g_alt_stack_top = static_cast<char*>(ss.ss_sp) + ss.ss_size;
  ss.ss_flags = 0;
  arch::raw_syscall(SYS_sigaltstack, reinterpret_cast<long>(&ss), 0);
  unwind_prepare();
  exception_reports_install();
  symbolizer_prepare();
  program_actions_record_inherited(SIGALRM);  // core/sched/preempt.cc installs its own
  for (int sig = 1; sig < NSIG; ++sig) {
    // core/sched/step.cc installs its own for SIGTRAP, seeded.
    if (!signal_is_managed(sig) || sig == SIGALRM || sig == SIGTRAP) continue;
    program_actions_record_inherited(sig);  // inherited: SIG_IGN survives exec
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = crash_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    __sigaction(sig, &sa, nullptr);
  }
}

}  // namespace ptshim
