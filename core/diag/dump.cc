// The thread dump (PTSHIM_DUMP_SIGNAL, SIGQUIT by default, under its default
// action): every thread with its state and backtrace, and the program goes
// on. Written from the signal's handler, or, when the signal arrived while
// the core was busy, at the next safe point.
#include <errno.h>

#include "core/diag/diag.h"
#include "core/thread/thread.h"

namespace ptshim {

void dump_threads(const void* ucontext) {
  int outer_core = g_in_core;
  g_in_core = 1;  // no preemption while the dump is written
  g_reporting = 1;
  symbolizer_report_begin();
  {
    Writer w;
    as_report(w);
    w.str("ptshim: thread dump (").str(options().dump_signal_name).str("), ");
    w.dec(live_thread_count()).str(" live thread(s):\n");
    write_thread_dump(w, backtrace_running(ucontext));
    write_schedule_record(w);
    w.str("ptshim: end of thread dump\n");
  }
  g_reporting = 0;
  g_in_core = outer_core;
}

void take_deferred_dump() {
  g_deferred.dump = 0;
  int saved_errno = errno;  // the dump runs on the program's thread
  dump_threads(nullptr);
  errno = saved_errno;
}

}  // namespace ptshim
