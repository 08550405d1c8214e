// The deadlock report. The idle path asks when nothing can run, nobody
// sleeps and nobody waits for I/O. If every blocked thread waits for a
// signal (sigwait, sigsuspend, pause), the program is idle by intent and
// nothing is reported. Otherwise threads wait for each other, and only a
// signal can still end that (core/signal says whether one may: an armed
// alarm or timer, a thread waiting for one, a handler for one from outside).
// If none may, no thread will ever run again: the report (every thread's
// state, the first wait-for cycle, every backtrace), then death by SIGABRT.
// If one may, the same report once, as a warning, and the wait goes on as it
// would natively: the alarm kills the process, or the handler runs.
// PTSHIM_DEADLOCK=abort makes every report fatal, =warn none.
#include <signal.h>

#include "core/diag/diag.h"
#include "core/signal/signal.h"
#include "core/sync/sync.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
const Thread* valid_or_null(const Thread* t) {
  return t != nullptr && thread_is_valid(t) ? t : nullptr;
}
}  // namespace

const Thread* holder_of(WaitKind kind, const void* object) {
  switch (kind) {
    case WaitKind::kMutex: {
      const auto* m = static_cast<const Mutex*>(object);
      return mutex_is_shared(m) ? nullptr : valid_or_null(m->owner);
    }
    case WaitKind::kRwRead:
    case WaitKind::kRwWrite: {
      const auto* l = static_cast<const RwLock*>(object);
      return rwlock_is_shared(l) ? nullptr : valid_or_null(l->writer);
    }
    case WaitKind::kJoin:
      return valid_or_null(static_cast<const Thread*>(object));
    default:
      return nullptr;
  }
}

const Thread* waits_for(const Thread* t) {
  if (t->state != ThreadState::kBlocked) return nullptr;
  return holder_of(t->wait_kind, t->wait_object);
}

void write_wait_edge(Writer& w, const Thread* t) {
  const Thread* next = waits_for(t);
  switch (t->wait_kind) {
    case WaitKind::kJoin:
      write_thread_name(w.str(" joins "), next);
      return;
    case WaitKind::kRwRead:
    case WaitKind::kRwWrite:
      write_lock_name(w.str(" waits for "), t->wait_object,
                      t->wait_kind == WaitKind::kRwRead ? LockKind::kRwRead : LockKind::kRwWrite);
      w.str(t->wait_kind == WaitKind::kRwRead ? " (to read)" : " (to write)");
      break;
    default:
      write_lock_name(w.str(" waits for "), t->wait_object, LockKind::kMutex);
      break;
  }
  write_thread_name(w.str(" held by "), next);
}

namespace {
// A wait-for cycle through `start`, written as one sentence; false if none.
bool write_cycle(Writer& w, const Thread* start) {
  const Thread* slow = start;
  const Thread* fast = start;
  do {  // is there a cycle reachable from start?
    slow = waits_for(slow);
    fast = waits_for(fast);
    if (fast != nullptr) fast = waits_for(fast);
    if (slow == nullptr || fast == nullptr) return false;
  } while (slow != fast);
  const Thread* t = slow;  // on the cycle
  write_thread_name(w.str("ptshim: wait-for cycle: "), t);
  do {
    write_wait_edge(w, t);
    t = waits_for(t);
    if (t != slow) w.str(", which");
  } while (t != slow);
  w.chr('\n');
  return true;
}

// Every thread's state, the first cycle found, the backtraces.
void write_deadlock_report(Writer& w) {
  for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
    if (t->state == ThreadState::kExited) continue;
    write_thread_name(w.str("  "), t);
    w.str(": ");
    write_thread_state(w, t);
    w.chr('\n');
    write_held_locks(w, t);
  }
  for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
    if (write_cycle(w, t)) break;
  }
  if (options().backtraces) {
    w.str("ptshim: backtraces:\n");
    write_thread_dump(w, backtrace_running(nullptr));
  }
  write_schedule_record(w);
}

// Some thread waits for something only another thread of the process could
// give it (not for a signal, and not one of ptshim's own idle threads).
bool threads_wait_for_each_other() {
  for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
    if (t->state == ThreadState::kBlocked && !t->in_sigsuspend && t->sigwait_set == 0 &&
        !t->idle_own) {
      return true;
    }
  }
  return false;
}

bool g_warned;  // the warning is written once per process
}  // namespace

void report_deadlock_and_abort() {
  g_reporting = 1;
  symbolizer_report_begin();
  {
    Writer w;
    as_report(w);
    w.str("ptshim: deadlock: no thread can run and none is sleeping; ")
        .dec(live_thread_count())
        .str(" thread(s) blocked forever:\n");
    write_deadlock_report(w);
  }
  die_by_signal(SIGABRT);  // even if the program ignores or handles it
}

void deadlock_check_idle() {
  if (!threads_wait_for_each_other()) return;
  int sig = 0;
  const char* why = signal_wake_source(&sig);
  DeadlockMode mode = options().deadlock;
  if (mode == DeadlockMode::kAbort || (mode == DeadlockMode::kAuto && why == nullptr)) {
    report_deadlock_and_abort();
  }
  if (g_warned) return;
  g_warned = true;
  g_reporting = 1;
  symbolizer_report_begin();
  {
    Writer w;
    as_report(w);
    w.str(
        "ptshim: deadlock warning: no thread can run and none is sleeping, but the wait may end: ");
    if (why == nullptr) {
      w.str("PTSHIM_DEADLOCK=warn");
    } else {
      w.str(why);
      if (sig != 0) w.str(" (").str(signal_name(sig)).chr(')');
    }
    w.str("; the run goes on; ").dec(live_thread_count()).str(" thread(s) blocked:\n");
    write_deadlock_report(w);
    w.str("ptshim: end of deadlock warning\n");
  }
  g_reporting = 0;
}

}  // namespace ptshim
