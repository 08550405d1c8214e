// Deadlocks found while other threads still run. A thread about to wait,
// without a timeout, for a mutex, a rwlock held by a writer or a thread to
// join walks the chain of holders: what it waits for is held by a thread,
// which may itself wait for something held by another, and so on. When the
// chain comes back to the waiting thread, the wait would close a cycle no
// one in it can leave: reported at once, whatever the other threads do.
// The walk runs only on the contended path, is bounded (kChainLimit), and
// stops at a thread that runs or whose wait has a deadline (it may end).
// Condvars, semaphores and the rest have no holder: the idle path's report
// (deadlock.cc) still sees those, when the whole process stops.
//
// PTSHIM_DEADLOCK: abort, and auto when no signal can end the wait: the
// report, then death by SIGABRT. warn, and auto when a signal may: the same
// report once per cycle, as a warning, and the thread waits as it would.
#include <signal.h>

#include "core/diag/diag.h"
#include "core/signal/signal.h"
#include "core/sync/sync.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
constexpr int kChainLimit = 64;

// The cycle's threads, the waiting thread first; 0 when its wait closes none.
size_t find_cycle(const Thread* self, const Thread* first, const Thread** cycle) {
  size_t n = 0;
  cycle[n++] = self;
  for (const Thread* t = first; t != nullptr && n <= kChainLimit; t = waits_for(t)) {
    if (t == self) return n;
    if (t->state != ThreadState::kBlocked || t->heap_slot != 0) return 0;
    cycle[n++] = t;
  }
  return 0;
}

// The same cycle gives the same key, whichever of its waits closed it.
uintptr_t cycle_key(const Thread* const* cycle, size_t n) {
  uintptr_t key = 0x5deadc0de;
  for (size_t i = 0; i < n; ++i) {
    uintptr_t edge = reinterpret_cast<uintptr_t>(cycle[i]) * 31 ^
                     reinterpret_cast<uintptr_t>(cycle[i]->wait_object);
    key += edge * 0x9e3779b97f4a7c15ull;
  }
  return key;
}

// `why`: a warning, and why the wait may end (with the signal `sig`, if not 0).
void write_cycle_report(Writer& w, const Thread* const* cycle, size_t n, const char* why, int sig) {
  w.str(why != nullptr ? "ptshim: deadlock warning: " : "ptshim: deadlock: ");
  for (size_t i = 0; i < n; ++i) {
    if (i != 0) w.str(i + 1 == n ? " and " : ", ");
    write_thread_name(w, cycle[i]);
  }
  w.str(n == 1 ? " waits for itself (" : " wait for each other (");
  w.dec(active_thread_count() - n).str(" other live thread(s))");
  if (why != nullptr) {
    w.str("; the wait may end: ").str(why);
    if (sig != 0) w.str(" (").str(signal_name(sig)).chr(')');
    w.str("; the run goes on");
  }
  w.str(":\n");
  for (size_t i = 0; i < n; ++i) {
    const Thread* t = cycle[i];
    write_thread_name(w.str("  "), t);
    write_thread_state(w.str(": "), t);
    w.chr('\n');
    write_held_locks(w, t);
    if (options().backtraces) {
      write_backtrace(w, t == current() ? backtrace_running(nullptr) : backtrace_saved(t));
    }
  }
  write_thread_name(w.str("ptshim: wait-for cycle: "), cycle[0]);
  for (size_t i = 0; i < n; ++i) {
    write_wait_edge(w, cycle[i]);
    if (i + 1 < n) w.str(", which");
  }
  w.chr('\n');
  write_schedule_record(w);
  if (why != nullptr) w.str("ptshim: end of deadlock warning\n");
}
}  // namespace

void deadlock_check_before_block(WaitKind kind, const void* object) {
  Thread* self = current();
  const Thread* first = holder_of(kind, object);
  if (first == nullptr) return;
  const Thread* cycle[kChainLimit + 1];
  // The report shows the waiting thread as blocked on what it is about to
  // wait for (nothing switches while it is written), so every thread of
  // the cycle is told, and walked, alike.
  ThreadState state = self->state;
  WaitKind old_kind = self->wait_kind;
  const void* old_object = self->wait_object;
  self->state = ThreadState::kBlocked;
  self->wait_kind = kind;
  self->wait_object = object;
  size_t n = find_cycle(self, first, cycle);
  const char* why = nullptr;
  int sig = 0;
  bool fatal = false;
  if (n != 0) {
    DeadlockMode mode = options().deadlock;
    if (mode == DeadlockMode::kWarn) {
      why = "PTSHIM_DEADLOCK=warn";
    } else if (mode == DeadlockMode::kAuto) {
      why = signal_wake_source(&sig);
    }
    fatal = why == nullptr;
  }
  if (n != 0 && (fatal || report_first_time(cycle_key(cycle, n)))) {
    report_while_others_run_begin();
    {
      Writer w;
      as_report(w);
      write_cycle_report(w, cycle, n, why, sig);
    }
    if (fatal) die_by_signal(SIGABRT);  // even if the program ignores or handles it
    report_while_others_run_end();
  }
  self->state = state;
  self->wait_kind = old_kind;
  self->wait_object = old_object;
}

}  // namespace ptshim
