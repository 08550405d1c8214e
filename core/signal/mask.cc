// Per-thread signal masks over one kernel thread.
//
// Each user thread has its own mask (Thread::signal_mask: what
// pthread_sigmask reports and sets). The kernel has one mask, which should
// be the running thread's, minus the signals ptshim must always receive:
// SIGALRM (its preemption ticks) and the synchronous faults (a blocked fault
// would kill the process without a report; the kernel forces them anyway).
//
// INVARIANTS.
// - g_kernel_mask is what the kernel's mask is, as far as ptshim knows. It
//   changes only through signal_mask_set_kernel() (the one rt_sigprocmask
//   call), or is noted when something else changed it: a switch of the
//   ucontext kind (swapcontext restores a mask), or entry to and return from
//   ptshim's SIGALRM handler (the kernel adds SIGALRM; sigreturn restores).
// - After every switch the incoming thread installs its mask; the system
//   call is made only when the mask differs from g_kernel_mask, so threads
//   with equal masks switch without one.
// - A program SIGALRM (alarm, setitimer) that arrives while the running
//   thread blocks SIGALRM is held, as the kernel would keep it pending, and
//   is delivered to the first thread that runs with SIGALRM unblocked or
//   taken by a sigwait for it.
// What ptshim cannot see: a mask changed by a raw rt_sigprocmask system call
// or inside libc (siglongjmp restoring one, for instance). The next switch to
// a thread whose mask differs corrects the kernel's mask.
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>

#include "core/signal/signal.h"

namespace ptshim {

namespace {
constexpr uint64_t bit(int sig) { return signal_bit(sig); }

// The kernel never blocks these; glibc keeps its own two out of every mask.
constexpr uint64_t kNeverBlocked = bit(SIGKILL) | bit(SIGSTOP) | bit(32) | bit(33);

uint64_t g_kernel_mask;
bool g_program_alarm_held;

uint64_t kernel_mask_for(uint64_t thread_mask) { return thread_mask & ~signals_always_delivered(); }

void set_kernel_mask(uint64_t mask) {
  arch::raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&mask), 0, sizeof mask);
  g_kernel_mask = mask;
}

void hand_over_held_alarm(Thread* t) {
  if (!g_program_alarm_held || (t->signal_mask & bit(SIGALRM)) != 0) return;
  g_program_alarm_held = false;
  signal_request(t, SIGALRM);
}
}  // namespace

void signal_mask_adopt_first_thread(Thread* t) {
  uint64_t mask = 0;
  arch::raw_syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, reinterpret_cast<long>(&mask), sizeof mask);
  g_kernel_mask = mask;
  t->signal_mask = mask & ~kNeverBlocked;
  signal_mask_install(t);
}

void signal_mask_install(Thread* t) {
  uint64_t wanted = kernel_mask_for(t->signal_mask);
  if (wanted != g_kernel_mask) set_kernel_mask(wanted);
  hand_over_held_alarm(t);
}

void signal_mask_note_kernel(uint64_t mask) { g_kernel_mask = mask; }
uint64_t signal_mask_kernel() { return g_kernel_mask; }

uint64_t signal_mask_from_set(const sigset_t* set) {
  uint64_t mask = 0;
  for (int sig = 1; sig <= 64; ++sig) {
    if (sigismember(set, sig) == 1) mask |= bit(sig);
  }
  return mask & ~kNeverBlocked;
}

uint64_t signal_mask_kernel_form(uint64_t thread_mask) { return kernel_mask_for(thread_mask); }

uint64_t signal_mask_swap(Thread* t, uint64_t mask) {
  uint64_t previous = t->signal_mask;
  t->signal_mask = mask;
  return previous;
}

int signal_mask_change(Thread* t, int how, const sigset_t* set, sigset_t* old) {
  uint64_t previous = t->signal_mask;
  if (set != nullptr) {
    uint64_t change = signal_mask_from_set(set);
    switch (how) {
      case SIG_BLOCK:
        t->signal_mask |= change;
        break;
      case SIG_UNBLOCK:
        t->signal_mask &= ~change;
        break;
      case SIG_SETMASK:
        t->signal_mask = change;
        break;
      default:
        return EINVAL;
    }
  }
  if (old != nullptr) {
    sigemptyset(old);
    for (int sig = 1; sig <= 64; ++sig) {
      if ((previous & bit(sig)) != 0) sigaddset(old, sig);
    }
  }
  signal_mask_install(t);
  // A signal pthread_kill'ed to this thread while blocked is raised now.
  if (signal_deliverable(t, t->pending_signals) != 0) g_deferred.signals = 1;
  return 0;
}

bool signal_is_blocked(const Thread* t, int sig) { return (t->signal_mask & bit(sig)) != 0; }

uint64_t signal_deliverable(const Thread* t, uint64_t pending) {
  return pending & ~(t->signal_mask & signals_always_delivered());
}

void signal_hold_program_alarm() { g_program_alarm_held = true; }

bool signal_alarm_held_for(uint64_t mask) {
  return g_program_alarm_held && (mask & bit(SIGALRM)) == 0;
}

bool signal_take_held_alarm() {
  bool held = g_program_alarm_held;
  g_program_alarm_held = false;
  return held;
}

}  // namespace ptshim
