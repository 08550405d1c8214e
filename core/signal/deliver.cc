// Signals for one user thread: taking a signal (into its sigwait, its
// handler, or the default action), holding the ones it blocks, and raising
// them when it runs.
//
// The kernel sees one thread, so a signal for a user thread that is not
// running, or that runs inside the core, waits in its pending set and is
// raised at this kernel thread when the thread next reaches a safe point
// outside the core: its handler then runs on the thread's own stack, in the
// kernel's own signal frame, as natively. A thread blocked in ptshim is woken
// for it (WakeReason::kSignaled) and block() runs the handler from inside
// the wait (signal_run_handlers_in_wait); the waiting call then resumes or
// fails with EINTR, as the kernel's call would.
//
// A raised signal carries a mark (si_errno) and the thread it is for
// (g_raised_for): if the kernel holds it (the handler frame it was raised in
// blocks it) and delivers it after a switch, the catcher gives it back to
// its thread instead of running it on the wrong one.
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/signal/signal.h"

namespace ptshim {

namespace {
constexpr uint64_t bit(int sig) { return signal_bit(sig); }

siginfo_t g_thread_info[NSIG];  // for a thread's pending signal with Thread::pending_info
uint64_t g_held;                // for the process, accepted by no thread when it came
siginfo_t g_held_info[NSIG];
Thread* g_raised_for[NSIG];  // the thread a marked signal in flight is for

// What pthread_kill's tgkill would give the handler.
void pthread_kill_info(int sig, siginfo_t* info) {
  memset(info, 0, sizeof *info);
  info->si_signo = sig;
  info->si_code = SI_TKILL;
  info->si_pid = static_cast<pid_t>(arch::raw_syscall(SYS_getpid));
  info->si_uid = static_cast<uid_t>(arch::raw_syscall(SYS_getuid));
}

void hold_in_thread(Thread* t, int sig, const siginfo_t* info) {
  t->pending_signals |= bit(sig);
  if (info != nullptr) {
    g_thread_info[sig] = *info;
    t->pending_info |= bit(sig);
  } else {
    t->pending_info &= ~bit(sig);
  }
}

void hand_to_sigwait(Thread* t, int sig, const siginfo_t* info) {
  auto* out = static_cast<siginfo_t*>(t->sigwait_info);
  if (info != nullptr) {
    *out = *info;
  } else {
    pthread_kill_info(sig, out);
  }
  t->sigwait_taken = sig;
  t->sigwait_set = 0;
  if (t->state == ThreadState::kBlocked) wake(t, WakeReason::kWoken);
}

// The default action, taken at once: natively it ends (or stops) the whole
// process whichever thread takes it.
void take_default_action(int sig) {
  if (sig == SIGALRM) {
    raise_with_default_action(sig);  // ptshim's own handler is the kernel's
  } else {
    raise_on_this_thread(sig);
  }
}

// Raises `sig` for the running thread `self`, outside the core.
void raise_for(Thread* self, int sig, siginfo_t* info, Disposition d) {
  long pid = arch::raw_syscall(SYS_getpid), tid = arch::raw_syscall(SYS_gettid);
  switch (d) {
    case Disposition::kCaught:
      info->si_errno = kSignalMark;
      g_raised_for[sig] = self;
      arch::raw_syscall(SYS_rt_tgsigqueueinfo, pid, tid, sig, reinterpret_cast<long>(info));
      return;
    case Disposition::kDirect:
      ++self->handlers_run;  // the kernel calls it at once
      arch::raw_syscall(SYS_rt_tgsigqueueinfo, pid, tid, sig, reinterpret_cast<long>(info));
      return;
    case Disposition::kDefault:
      take_default_action(sig);
      return;
    case Disposition::kIgnored:
      return;
  }
}
}  // namespace

bool signal_accepts(const Thread* t, int sig) {
  if (t->state == ThreadState::kExited || t->state == ThreadState::kFree) return false;
  return (t->signal_mask & bit(sig)) == 0 || (t->sigwait_set & bit(sig)) != 0;
}

void signal_take(Thread* t, int sig, const siginfo_t* info) {
  if ((t->sigwait_set & bit(sig)) != 0) {
    hand_to_sigwait(t, sig, info);
    return;
  }
  switch (signal_disposition(sig)) {
    case Disposition::kIgnored:
      return;
    case Disposition::kDefault:
      take_default_action(sig);
      return;
    case Disposition::kCaught:
    case Disposition::kDirect:
      break;
  }
  hold_in_thread(t, sig, info);
  if (t->state == ThreadState::kBlocked) wake(t, WakeReason::kSignaled);
  if (t == current()) g_deferred.signals = 1;  // raised at its next safe point
}

void signal_hold(Thread* t, int sig, const siginfo_t* info) {
  if (t != nullptr) {
    if (t->state != ThreadState::kExited && t->state != ThreadState::kFree) {
      hold_in_thread(t, sig, info);
    }
    return;  // a thread that is gone takes its signals with it
  }
  g_held |= bit(sig);
  g_held_info[sig] = *info;
}

Thread* signal_raised_for(int sig) {
  Thread* t = g_raised_for[sig];
  g_raised_for[sig] = nullptr;
  return t;
}

void signal_request(Thread* t, int sig, const siginfo_t* info) {
  if (signal_accepts(t, sig)) {
    signal_take(t, sig, info);
  } else {
    signal_hold(t, sig, info);  // until it unblocks it or takes it with sigwait
  }
}

int signal_take_held(Thread* t, uint64_t wanted, siginfo_t* info) {
  if (t != nullptr) {
    if (uint64_t mine = t->pending_signals & wanted) {
      int sig = __builtin_ctzll(mine) + 1;
      t->pending_signals &= ~bit(sig);
      if ((t->pending_info & bit(sig)) != 0) {
        *info = g_thread_info[sig];
      } else {
        pthread_kill_info(sig, info);
      }
      t->pending_info &= ~bit(sig);
      return sig;
    }
  }
  if (uint64_t process = g_held & wanted) {
    int sig = __builtin_ctzll(process) + 1;
    g_held &= ~bit(sig);
    *info = g_held_info[sig];
    return sig;
  }
  return 0;
}

uint64_t signal_held_for(const Thread* t) {
  return (t != nullptr ? t->pending_signals : 0) | g_held;
}

void signal_forget_held() {
  g_held = 0;
  for (Thread*& t : g_raised_for) t = nullptr;
}

void deliver_pending_signals() {
  Thread* self = current();
  enter_core();
  if (g_deferred.arrived) signal_route_arrivals();
  g_deferred.signals = 0;
  while (uint64_t ready = signal_deliverable(self, self->pending_signals)) {
    int sig = __builtin_ctzll(ready) + 1;
    siginfo_t info;
    signal_take_held(self, bit(sig), &info);
    Disposition d = signal_disposition(sig);
    if (d == Disposition::kCaught && !signal_handler_restarts(sig)) self->handler_no_restart = true;
    // Raised outside the core: the catcher then runs the handler at once.
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    g_in_core = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    raise_for(self, sig, &info, d);
    enter_core();
  }
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  g_in_core = 0;
}

void signal_run_handlers_in_wait() {
  Thread* self = current();
  self->handler_no_restart = false;
  // A handler may leave the wait for good (siglongjmp): nothing may point
  // into the waiting frame meanwhile. A sigwait or sigsuspend that goes on
  // waiting says so again.
  self->sigwait_set = 0;
  self->in_sigsuspend = false;
  if (signal_deliverable(self, self->pending_signals) != 0) g_deferred.signals = 1;
  // A safe point: the core is consistent (the thread is on no queue), and
  // the handlers are program code, which runs outside the core.
  leave_core();
  enter_core();
}

bool signal_wait_restarts() { return !current()->handler_no_restart; }

}  // namespace ptshim
