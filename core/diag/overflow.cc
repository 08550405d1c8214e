// Stack overflows of stacks without a guard page (past PTSHIM_GUARDED_STACKS,
// or the program's own from pthread_attr_setstack): no fault marks where the
// overflow began, so the scheduler checks the stack pointer at every switch
// and tick (stack_overflowed), and this report is written from the signal
// stack: below the stack pointer lies another thread's memory or nothing.
#include <signal.h>

#include "core/diag/diag.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
void write_size(Writer& w, size_t bytes) {
  if (bytes % (1024 * 1024) == 0) {
    w.dec(bytes / (1024 * 1024)).str(" MiB");
  } else {
    w.dec(bytes / 1024).str(" KiB");
  }
}

}  // namespace

void write_stack_facts(Writer& w, const Thread* t, uintptr_t fault) {
  uintptr_t lo, hi, guard_lo;
  if (t->is_main) {
    main_stack_bounds(&lo, &hi);
    guard_lo = lo;
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
      w.str("  backtrace, innermost first:\n");
      write_backtrace(w, backtrace_running(ucontext));
    }
    write_creation(w, t);
    write_schedule_record(w);
  }
}
}  // namespace

void report_unguarded_overflow(Thread* t, const void* ucontext) {
  fatal_report_begin();
  // Not on the overflowed stack: the unwinder and the writer need room, and
  // below the stack pointer lies another thread's memory or nothing.
  OverflowReport report{t, ucontext};
  arch::call_on_stack(write_unguarded_overflow, &report, report_stack_top());
  die_by_signal(SIGSEGV);
}

}  // namespace ptshim
