// Program signals as the kernel delivers them: the catcher (the kernel's
// action for every signal the program handles), the program's SIGALRM from
// ptshim's SIGALRM handler, and the inbox for what arrives while the core is
// busy. Each signal goes to the thread the kernel would give it to:
// - the thread it was directed at: the running thread for tgkill / tkill
//   from this process (raise) and for what the kernel sends the thread
//   whose call caused it (SIGPIPE, SIGXFSZ); the main thread for tgkill
//   from another process; the marked thread for a signal ptshim raised;
// - for the process (kill, sigqueue, timers, the terminal, SIGCHLD): the
//   main thread if it accepts it, as Linux prefers the thread group leader;
//   else the running thread if it does; else the first thread that does. A
//   thread accepts a signal it does not block, or one it waits for in
//   sigwait.
// If that thread is the running one, outside the core, its handler runs at
// once, in this frame. Otherwise the thread takes it (deliver.cc): handed to
// its sigwait, or held and raised when it next runs outside the core, waking
// it if it waits in ptshim.
//
// The core may be busy when a signal lands (a shim call, a switch, the
// scheduler's idle sleep): its structures may then be mid-update, so the
// signal only goes into the inbox, one slot per signal written with plain
// stores, and g_deferred.arrived brings it to the next safe point or to the
// scheduler loop. One exception: a blocking system call the core makes on a
// thread's behalf (a lone thread's read, wait4, futex wait) leaves the core
// consistent and would be restarted (SA_RESTART) before any safe point, so
// the signal is routed and its handler run there, as natively.
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>

#include "core/signal/signal.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
constexpr uint64_t bit(int sig) { return signal_bit(sig); }

// The inbox. A slot is written only while its bit is clear and its bit set
// after it; routing copies a slot before clearing its bit. A second arrival
// of a signal already in the inbox merges with it, as standard signals do.
uint64_t g_inbox;
siginfo_t g_inbox_info[NSIG];
Thread* g_inbox_for[NSIG];  // the thread it was directed at; null: the process

Thread* g_leader;         // the main thread; after fork, the child's forking thread
long g_scheduler_tid;     // the kernel thread that runs every user thread
Thread* g_suspend_ended;  // a thread in sigsuspend a handler ran on while it waited

// tls_on_scheduler_thread is false on a kernel thread ptshim does not run,
// but also on ours for a moment: a new thread's own TLS block says false
// until its first step marks it (core/thread), and a signal can land in
// between. The kernel thread's id tells them apart.
bool on_scheduler_kernel_thread() {
  return tls_on_scheduler_thread || arch::raw_syscall(SYS_gettid) == g_scheduler_tid;
}

void inbox_put(int sig, const siginfo_t* info, Thread* for_thread) {
  if ((__atomic_load_n(&g_inbox, __ATOMIC_RELAXED) & bit(sig)) == 0) {
    g_inbox_info[sig] = *info;
    g_inbox_for[sig] = for_thread;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    // One instruction: a handler nested on this one cannot split it.
    __atomic_fetch_or(&g_inbox, bit(sig), __ATOMIC_RELAXED);
  }
  g_deferred.arrived = 1;
}

// The thread a signal was directed at, or null for the process: tgkill and
// tkill from this process (raise, or a thread naming its gettid(), which
// is the pid for every user thread) are for the running thread; from
// another process, for the main thread, whose tid the pid is. The signals
// the kernel sends to the thread whose system call caused them (SIGPIPE,
// SIGXFSZ) look like a kill() from this process: for the running thread
// too (one really sent so goes there as well).
Thread* directed_at(int sig, const siginfo_t* info) {
  bool from_here = info->si_pid == static_cast<pid_t>(arch::raw_syscall(SYS_getpid));
  if (info->si_code == SI_TKILL) return from_here ? current() : g_leader;
  // The kernel's own SIGTRAP (an int3, a trace or breakpoint trap) is for the
  // instruction the running thread just executed, as a fault is: never
  // another thread's to take.
  if (sig == SIGTRAP && info->si_code > 0) return current();
  if ((sig == SIGPIPE || sig == SIGXFSZ) && info->si_code == SI_USER && from_here) return current();
  return nullptr;
}

Thread* choose_taker(int sig) {
  if (g_leader != nullptr && signal_accepts(g_leader, sig)) return g_leader;
  Thread* self = current();
  if (signal_accepts(self, sig)) return self;
  for (Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
    if (signal_accepts(t, sig)) return t;
  }
  return nullptr;
}

// In the core. True if the running thread should run the handler now (the
// caller is its signal frame and may run it); otherwise the signal is where
// it belongs: taken by a thread, held for one, or held for the process.
bool route(int sig, const siginfo_t* info, Thread* for_thread, bool may_run_here) {
  if (sig == SIGCHLD) child_changed();
  Thread* t = for_thread != nullptr ? for_thread : choose_taker(sig);
  if (t == nullptr) {
    signal_hold(nullptr, sig, info);  // until a thread unblocks it or waits for it
    return false;
  }
  if (!signal_accepts(t, sig)) {
    signal_hold(t, sig, info);
    return false;
  }
  if (may_run_here && t == current() && t->state == ThreadState::kRunning &&
      (t->sigwait_set & bit(sig)) == 0 && signal_disposition(sig) == Disposition::kCaught) {
    return true;
  }
  signal_take(t, sig, info);
  return false;
}

// The core is busy, but at a blocking system call made for the running
// thread, whose restart would come before any safe point.
bool at_blocking_call(const void* ucontext) {
  long number, args[4];
  if (g_reporting || current()->state != ThreadState::kRunning ||
      !arch::interrupted_syscall(ucontext, &number, args)) {
    return false;
  }
  switch (number) {
    case SYS_read:
    case SYS_readv:
    case SYS_write:
    case SYS_writev:
    case SYS_recvfrom:
    case SYS_recvmsg:
    case SYS_sendto:
    case SYS_sendmsg:
    case SYS_accept:
    case SYS_accept4:
    case SYS_connect:
    case SYS_wait4:
    case SYS_futex:
      return true;
    default:
      return false;
  }
}

// A program signal in a handler frame on the scheduler's kernel thread.
// True if the caller should now run the program's handler for it.
bool arrive(int sig, siginfo_t* info, const void* ucontext) {
  Thread* for_thread = nullptr;
  if (info->si_errno == kSignalMark) {
    info->si_errno = 0;
    for_thread = signal_raised_for(sig);
    if (for_thread == nullptr) for_thread = current();
  } else {
    for_thread = directed_at(sig, info);
    // The process's own kill or sigqueue arrives as its call returns; any
    // other signal when the machine sends it.
    bool from_here = (info->si_code == SI_USER || info->si_code == SI_QUEUE) &&
                     info->si_pid == static_cast<pid_t>(arch::raw_syscall(SYS_getpid));
    if (g_recording && !from_here) schedule_note_uncontrolled(Uncontrolled::kOutsideSignal);
  }
  if (g_in_core) {
    if (!at_blocking_call(ucontext)) {
      inbox_put(sig, info, for_thread);
      return false;
    }
    return route(sig, info, for_thread, true);  // the handler runs inside the core, as before
  }
  g_in_core = 1;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  bool run_here = route(sig, info, for_thread, true);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  g_in_core = 0;
  return run_here;
}

// While the catcher runs, the kernel's mask is the interrupted one plus the
// handler's sa_mask (and the signal itself); sigreturn restores the
// interrupted one. Noting both keeps a switch made in the handler from
// passing the handler's mask on to the next thread.
class FrameMask {
 public:
  FrameMask(const void* ucontext, uint64_t blocks)
      : interrupted_(arch::interrupted_signal_mask(ucontext)) {
    signal_mask_note_kernel(interrupted_ | blocks);
  }
  ~FrameMask() { signal_mask_note_kernel(interrupted_); }
  FrameMask(const FrameMask&) = delete;
  FrameMask& operator=(const FrameMask&) = delete;

 private:
  uint64_t interrupted_;
};
}  // namespace

void signal_catch(int sig, siginfo_t* info, void* ucontext) {
  if (!on_scheduler_kernel_thread()) {
    // A kernel thread ptshim does not run (made inside glibc): its handler
    // runs there, as it would without the shim.
    program_handler_call(sig, info, ucontext);
    return;
  }
  FrameMask frame(ucontext, signal_catcher_blocks(sig));
  int saved_errno = errno;
  bool run_here = arrive(sig, info, ucontext);
  errno = saved_errno;
  if (run_here) program_handler_call(sig, info, ucontext);
}

void signal_forward_program_signal(int sig, siginfo_t* info, void* ucontext) {
  if (!on_scheduler_kernel_thread()) {
    if (program_has_handler(sig)) program_handler_call(sig, info, ucontext);
    return;
  }
  if (arrive(sig, info, ucontext)) program_handler_call(sig, info, ucontext);
}

void signal_handler_ran() {
  if (!on_scheduler_kernel_thread()) return;
  Thread* t = current();
  ++t->handlers_run;
  if (t->state == ThreadState::kBlocked && t->in_sigsuspend) {
    g_suspend_ended = t;  // plain stores: this may be inside the core
    g_deferred.arrived = 1;
  }
}

void signal_route_arrivals() {
  g_deferred.arrived = 0;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (Thread* t = g_suspend_ended) {
    g_suspend_ended = nullptr;
    if (t->state == ThreadState::kBlocked && t->in_sigsuspend) wake(t, WakeReason::kSignaled);
  }
  for (uint64_t arrived = __atomic_load_n(&g_inbox, __ATOMIC_RELAXED); arrived != 0;
       arrived &= arrived - 1) {
    int sig = __builtin_ctzll(arrived) + 1;
    siginfo_t info = g_inbox_info[sig];
    Thread* for_thread = g_inbox_for[sig];
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    __atomic_fetch_and(&g_inbox, ~bit(sig), __ATOMIC_RELAXED);
    route(sig, &info, for_thread, false);
  }
}

void signal_leader_set(Thread* t) {
  g_leader = t;
  g_scheduler_tid = arch::raw_syscall(SYS_gettid);  // at start-up, and in a fork child
}

void signal_forget_arrivals() {
  __atomic_store_n(&g_inbox, 0, __ATOMIC_RELAXED);
  g_suspend_ended = nullptr;
  g_deferred.arrived = 0;
}

}  // namespace ptshim
