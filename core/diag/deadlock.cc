// The deadlock report: nothing can run, nobody sleeps, nobody waits for I/O,
// so no thread will ever run again. Every thread's state, the first
// wait-for cycle found, and every backtrace; then death by SIGABRT.
#include <signal.h>

#include "core/diag/diag.h"
#include "core/sync/sync.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
const Thread* mutex_owner(const Thread* t) {
  if (t->state != ThreadState::kBlocked || t->wait_kind != WaitKind::kMutex) return nullptr;
  const Thread* owner = static_cast<const Mutex*>(t->wait_object)->owner;
  return owner != nullptr && thread_is_valid(owner) ? owner : nullptr;
}

// The thread `t` waits for, if it waits for one: a mutex owner or a join target.
const Thread* waits_for(const Thread* t) {
  if (t->state != ThreadState::kBlocked) return nullptr;
  if (t->wait_kind == WaitKind::kJoin) return static_cast<const Thread*>(t->wait_object);
  return mutex_owner(t);
}

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
  w.str("ptshim: wait-for cycle: thread ").dec(t->number);
  do {
    const Thread* next = waits_for(t);
    if (t->wait_kind == WaitKind::kMutex) {
      w.str(" waits for mutex ").hex(reinterpret_cast<uintptr_t>(t->wait_object));
      w.str(" held by thread ").dec(next->number);
    } else {
      w.str(" joins thread ").dec(next->number);
    }
    t = next;
    if (t != slow) w.str(", which");
  } while (t != slow);
  w.chr('\n');
  return true;
}
}  // namespace

void report_deadlock_and_abort() {
  g_reporting = 1;
  {
    Writer w;
    as_report(w);
    w.str("ptshim: deadlock: no thread can run and none is sleeping; ")
        .dec(live_thread_count())
        .str(" thread(s) blocked forever:\n");
    for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
      if (t->state == ThreadState::kExited) continue;
      write_thread_name(w.str("  "), t);
      w.str(": ");
      write_thread_state(w, t);
      w.chr('\n');
    }
    for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
      if (write_cycle(w, t)) break;
    }
    if (options().backtraces) {
      w.str("ptshim: backtraces:\n");
      write_thread_dump(w, backtrace_running(nullptr));
    }
  }
  die_by_signal(SIGABRT);  // even if the program ignores or handles it
}

}  // namespace ptshim
