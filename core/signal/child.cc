// Waits for a child's change of state (wait4, waitid) without polling. The
// kernel tells the parent of every change with SIGCHLD; its default action
// ignores it, so while the program leaves SIGCHLD at SIG_DFL the kernel gets
// ptshim's catcher in its place (signal_stand_in_for_default), which routes
// the signal like any other (it is then ignored) and first wakes every thread
// waiting for a child (route.cc). The waiter looks with WNOHANG and sleeps on
// one queue until the next SIGCHLD; the change counter closes the gap
// between its look and its sleep, in which a SIGCHLD may already have been
// routed (a signal that lands at a system call the core makes is routed at
// once: route.cc, at_blocking_call).
//
// The catcher stands in only while some thread is in such a wait (see
// action.cc for why). Where no SIGCHLD will come, a waiter looks again every millisecond: the
// program ignores SIGCHLD (the kernel then reaps children itself and sends
// nothing), or every thread blocks it (it stays pending in the kernel). A
// waiter that may sleep on the queue still looks again every second, in
// case the kernel's action was changed where ptshim does not see it
// (glibc's own callers of __sigaction), or a thread that accepted SIGCHLD
// ended; under virtual time, where a deadline would be reached at once, the
// idle path's real sleep lasts at most that second instead (sched.cc).
#include "core/signal/signal.h"

namespace ptshim {

namespace {
constexpr uint64_t kPollNs = 1'000'000;

WaitQueue g_child_waiters;
uint64_t g_child_changes;  // SIGCHLDs routed so far
uint32_t g_child_waits;    // threads between child_wait_begin and child_wait_end

// SIGCHLD reaches the catcher: not ignored, and some thread accepts it.
bool sigchld_will_arrive() {
  if (program_ignores(SIGCHLD)) return false;
  if ((signal_blocked_by_all() & signal_bit(SIGCHLD)) != 0) return false;
  return signal_disposition(SIGCHLD) == Disposition::kCaught ||
         signal_stand_in_for_default(SIGCHLD);
}
}  // namespace

void child_wait_begin() { ++g_child_waits; }

void child_wait_end() {
  if (--g_child_waits == 0) signal_stand_down(SIGCHLD);
}

uint64_t child_changes() { return g_child_changes; }

WakeReason child_wait(uint64_t changes_seen) {
  if (g_child_changes != changes_seen) return WakeReason::kWoken;
  if (!sigchld_will_arrive()) return sleep_until(monotonic_now_ns() + kPollNs);
  // Under virtual time the idle path would jump to a recheck deadline at
  // once: the waiter would spin, and the clock race, while the child runs.
  // (The idle path has it look again in real time instead: child_recheck.)
  uint64_t recheck = g_virtual_clock.on ? 0 : monotonic_now_ns() + kChildRecheckNs;
  WakeReason reason = block(&g_child_waiters, WaitKind::kChild, nullptr, recheck);
  return reason == WakeReason::kTimedOut ? WakeReason::kWoken : reason;
}

bool child_waiters_exist() { return g_child_waiters.head != nullptr; }

void child_recheck() { wake_all(&g_child_waiters); }

void child_changed() {
  ++g_child_changes;
  wake_all(&g_child_waiters);
}

void child_waiters_forget() {
  g_child_waiters = WaitQueue{};
  g_child_waits = 0;
  signal_stand_down(SIGCHLD);
}

}  // namespace ptshim
