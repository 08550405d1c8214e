// What could still end a wait when no thread can run, none sleeps and none
// waits for I/O: the idle path's question before it calls the wait a
// deadlock (core/diag). Only a signal can come then, and one ends the wait
// if some thread would take it and it does something there: its handler
// runs, or its default action ends the process. So the answer is yes when
//   - a thread waits for a signal (sigwait, sigsuspend, pause): a default
//     action ends it as well as a handler;
//   - the program's ITIMER_REAL (alarm, setitimer) is armed, or one of its
//     kernel POSIX timers on a clock that runs while the process sleeps,
//     and its signal would end the wait;
//   - the program handles a signal some thread accepts: it may come from
//     another process (the faults excepted: they come from an instruction).
// The CPU-time timers (ITIMER_VIRTUAL, ITIMER_PROF, CPU clocks) do not
// count: no CPU time passes while the kernel thread sleeps.
//
// The program's kernel timers are recorded here as shim/timer.cc makes
// them (ptshim's own tick timers are not: they are made with raw system
// calls), in a growing array of ids, in the core. fork's child has none.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "core/signal/signal.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
struct KernelTimer {
  int id;
  int sig;  // 0: it sends no signal, or its clock stops while the process sleeps
};
KernelTimer* g_timers;
size_t g_timer_count, g_timer_capacity;

// A signal that would end a wait if it came now: some thread takes it, and
// its handler runs or its default action ends the process.
bool would_end_the_wait(int sig) {
  switch (signal_disposition(sig)) {
    case Disposition::kIgnored:
      return false;
    case Disposition::kDefault:
      if (signal_facts(sig).default_action == SignalDefault::kStop) return false;
      break;
    default:
      break;
  }
  for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
    if (signal_accepts(t, sig)) return true;
  }
  return false;
}

bool armed(const itimerspec& v) { return v.it_value.tv_sec != 0 || v.it_value.tv_nsec != 0; }
}  // namespace

void program_timer_created(int id, clockid_t clock, const struct sigevent* how) {
  bool signals = how->sigev_notify == SIGEV_SIGNAL || how->sigev_notify == SIGEV_THREAD_ID;
  bool runs_asleep = clock >= 0 && clock != CLOCK_PROCESS_CPUTIME_ID &&
                     clock != CLOCK_THREAD_CPUTIME_ID;  // negative: a CPU clock too
  if (g_timer_count == g_timer_capacity) {
    size_t grown = g_timer_capacity == 0 ? 8 : g_timer_capacity * 2;
    auto* bigger = static_cast<KernelTimer*>(internal_alloc_zeroed(grown * sizeof(KernelTimer)));
    for (size_t i = 0; i < g_timer_count; ++i) bigger[i] = g_timers[i];
    if (g_timers != nullptr) internal_free(g_timers, g_timer_capacity * sizeof(KernelTimer));
    g_timers = bigger;
    g_timer_capacity = grown;
  }
  g_timers[g_timer_count++] = {id, signals && runs_asleep ? how->sigev_signo : 0};
}

void program_timer_deleted(int id) {
  for (size_t i = 0; i < g_timer_count; ++i) {
    if (g_timers[i].id == id) {
      g_timers[i] = g_timers[--g_timer_count];
      return;
    }
  }
}

void program_timers_after_fork_in_child() { g_timer_count = 0; }

const char* signal_wake_source(int* sig_out) {
  *sig_out = 0;
  for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
    if ((t->sigwait_set != 0 || t->in_sigsuspend) && t->state == ThreadState::kBlocked) {
      return "a thread waits for a signal (sigwait, sigsuspend or pause)";
    }
  }
  itimerval real;
  if (arch::raw_syscall(SYS_getitimer, ITIMER_REAL, reinterpret_cast<long>(&real)) == 0 &&
      (real.it_value.tv_sec != 0 || real.it_value.tv_usec != 0) && would_end_the_wait(SIGALRM)) {
    return "an alarm (ITIMER_REAL) is armed";
  }
  for (size_t i = 0; i < g_timer_count; ++i) {
    itimerspec v;
    if (g_timers[i].sig != 0 &&
        arch::raw_syscall(SYS_timer_gettime, g_timers[i].id, reinterpret_cast<long>(&v)) == 0 &&
        armed(v) && would_end_the_wait(g_timers[i].sig)) {
      return "a POSIX timer of the program is armed";
    }
  }
  uint64_t handled = signals_caught();
  // The dump signal is ptshim's own, but with a program handler it is the
  // program's (core/diag chains to it).
  if (program_has_handler(options().dump_signal)) handled |= signal_bit(options().dump_signal);
  for (uint64_t caught = handled; caught != 0; caught &= caught - 1) {
    int sig = __builtin_ctzll(caught) + 1;
    if ((signal_facts(sig).roles & kRoleSynchronous) == 0 && would_end_the_wait(sig)) {
      *sig_out = sig;
      return "the program handles a signal another process may send";
    }
  }
  return nullptr;
}

}  // namespace ptshim
