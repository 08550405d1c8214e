// Per-thread signal masks over one kernel thread.
//
// Each user thread has its own mask (Thread::signal_mask: what
// pthread_sigmask reports and sets). The kernel has one mask for all of
// them: the signals that EVERY live thread blocks. A signal some thread
// accepts therefore reaches this kernel thread at once, whichever thread
// runs, and route.cc hands it to a thread that accepts it; a signal that no
// thread accepts stays pending in the kernel, as it would natively, until a
// thread unblocks it or takes it with sigwait. Because that mask is the same
// whichever thread runs, a switch never needs a system call for it.
//
// The kernel form also leaves out the signals ptshim must always receive:
// SIGALRM (its preemption ticks) and the synchronous faults (a blocked fault
// would kill the process without a report; the kernel forces them anyway).
//
// INVARIANTS.
// - g_blocking[i] counts the live threads (started, not exited) whose mask
//   holds signal i + 1; g_blocked_by_all holds the signals it counts for
//   every one of them. Every write of a live thread's mask goes through
//   set_thread_mask, which keeps both exact.
// - The kernel's mask is written when that set changes and after a switch
//   that finds it different (a handler frame's mask, noted by the handler,
//   belongs to the thread it interrupted; the ucontext switch restores a
//   saved one), never for a mask change that leaves the set as it was.
// - g_kernel_mask is what the kernel's mask is, as far as ptshim knows. It
//   changes only through set_kernel_mask() (the one rt_sigprocmask call), or
//   is noted when something else changed it: a switch of the ucontext kind
//   (swapcontext restores a mask), entry to and return from ptshim's signal
//   handlers (the kernel adds the handler's mask; sigreturn restores), the
//   idle path's sleep.
// What ptshim cannot see: a mask changed by a raw rt_sigprocmask system call
// or inside libc (siglongjmp restoring one, for instance). The next switch
// corrects the kernel's mask.
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
uint64_t g_kernel_wanted;  // kernel_mask_for(g_blocked_by_all), kept with it
uint64_t g_blocked_by_all;
uint64_t g_blocked_by_any;  // the signals with a nonzero count
uint32_t g_blocking[64];
uint32_t g_threads;  // live threads counted

uint64_t kernel_mask_for(uint64_t thread_mask) { return thread_mask & ~signals_always_delivered(); }

void set_kernel_mask(uint64_t mask) {
  arch::raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&mask), 0, sizeof mask);
  g_kernel_mask = mask;
}

void count(uint64_t signals, int delta) {
  for (; signals != 0; signals &= signals - 1) {
    int i = __builtin_ctzll(signals);
    g_blocking[i] += static_cast<uint32_t>(delta);
    if (g_blocking[i] == 0) {
      g_blocked_by_any &= ~(uint64_t{1} << i);
    } else {
      g_blocked_by_any |= uint64_t{1} << i;
    }
  }
}

// Recomputes the signals every thread blocks and, if they changed, gives the
// kernel their form. Only a change is written: inside a handler the kernel's
// mask is the handler frame's, which a pthread_sigmask call there must not
// drop (a switch does: the frame is the suspended thread's).
// `start`: the kernel's mask is written whatever it was (start-up, fork).
void recompute(bool start = false) {
  uint64_t all = 0;
  for (uint64_t any = g_blocked_by_any; any != 0; any &= any - 1) {
    int i = __builtin_ctzll(any);
    if (g_blocking[i] == g_threads) all |= uint64_t{1} << i;
  }
  if (all == g_blocked_by_all && !start) return;
  g_blocked_by_all = all;
  g_kernel_wanted = kernel_mask_for(all);
  set_kernel_mask(g_kernel_wanted);
}

// The one way a live thread's mask changes. What `t` now accepts of the
// signals held for the process is its to take, and what it accepts of its
// own held signals is raised at its next safe point.
void set_thread_mask(Thread* t, uint64_t mask) {
  uint64_t old = t->signal_mask;
  t->signal_mask = mask;
  if (old != mask) {
    count(old & ~mask, -1);
    count(mask & ~old, +1);
    recompute();
  }
  // Held signals go only to a thread that runs, or will with this mask: not
  // one being made (its creator may still set its mask) or gone.
  if (t->state == ThreadState::kExited || t->state == ThreadState::kFree) return;
  for (uint64_t held = signal_held_for(nullptr) & ~mask; held != 0; held &= held - 1) {
    siginfo_t info;
    int sig = __builtin_ctzll(held) + 1;
    if (signal_take_held(nullptr, bit(sig), &info) == sig) signal_take(t, sig, &info);
  }
  if (t == current() && signal_deliverable(t, t->pending_signals) != 0) g_deferred.signals = 1;
}
}  // namespace

void signal_mask_adopt_first_thread(Thread* t) {
  uint64_t mask = 0;
  arch::raw_syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, reinterpret_cast<long>(&mask), sizeof mask);
  g_kernel_mask = mask;
  t->signal_mask = mask & ~kNeverBlocked;
  g_threads = 1;
  count(t->signal_mask, +1);
  recompute(true);
  signal_leader_set(t);
}

void signal_thread_start(Thread* t, const Thread* creator) {
  // Inherited, as POSIX says. It blocks at least what every thread blocks,
  // so the signals blocked by all stay the same.
  t->signal_mask = creator->signal_mask;
  ++g_threads;
  count(t->signal_mask, +1);
}

void signal_thread_exit(Thread* t) {
  // A thread's own pending signals die with it, as natively.
  t->pending_signals = t->pending_info = 0;
  count(t->signal_mask, -1);
  --g_threads;
  recompute();
}

void signal_after_fork_in_child(Thread* survivor) {
  for (uint32_t& n : g_blocking) n = 0;
  g_blocked_by_any = 0;
  g_threads = 1;
  count(survivor->signal_mask, +1);
  // The kernel's mask is what exec keeps: the forking thread's own now.
  recompute(true);
  // The child starts with nothing pending (fork(2)); its forking thread
  // leads it.
  survivor->pending_signals = survivor->pending_info = 0;
  signal_forget_held();
  signal_forget_arrivals();
  child_waiters_forget();
  program_timers_after_fork_in_child();
  signal_leader_set(survivor);
}

void signal_mask_install(Thread*, uint64_t also_blocked) {
  uint64_t wanted = g_kernel_wanted | also_blocked;
  if (wanted != g_kernel_mask) set_kernel_mask(wanted);
}

void signal_mask_note_kernel(uint64_t mask) { g_kernel_mask = mask; }
uint64_t signal_mask_kernel() { return g_kernel_mask; }
uint64_t signal_blocked_by_all() { return g_blocked_by_all; }

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
  set_thread_mask(t, mask);
  return previous;
}

int signal_mask_change(Thread* t, int how, const sigset_t* set, sigset_t* old) {
  uint64_t previous = t->signal_mask;
  uint64_t mask = previous;
  if (set != nullptr) {
    uint64_t change = signal_mask_from_set(set);
    switch (how) {
      case SIG_BLOCK:
        mask |= change;
        break;
      case SIG_UNBLOCK:
        mask &= ~change;
        break;
      case SIG_SETMASK:
        mask = change;
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
  set_thread_mask(t, mask);
  return 0;
}

bool signal_is_blocked(const Thread* t, int sig) { return (t->signal_mask & bit(sig)) != 0; }

uint64_t signal_deliverable(const Thread* t, uint64_t pending) { return pending & ~t->signal_mask; }

uint64_t signal_idle_begin() {
  // Everything but the faults, which cannot come from the few instructions
  // in between and must never be blocked.
  uint64_t all = ~(signals_always_delivered() & ~bit(SIGALRM));
  uint64_t sleeping = g_kernel_mask;
  set_kernel_mask(all);
  return sleeping;
}

void signal_idle_end(uint64_t mask) { set_kernel_mask(mask); }

}  // namespace ptshim
