// System calls made outside libc: libgomp's futex waits are raw `syscall`
// instructions, which no interposed symbol sees. In the kernel such a wait
// puts the one kernel thread, and so every user thread, to sleep. ptshim turns
// on syscall user dispatch (prctl PR_SET_SYSCALL_USER_DISPATCH, Linux 5.11)
// the first time the timer finds a thread in a futex call made outside libc
// (so that wait costs at most one timeslice): from then on a system call made
// anywhere but in libc's code stops with SIGSYS before the kernel runs it,
// and this handler makes it instead: a futex call through futex_call (a wait
// parks only its thread), any other call as it stands. The interrupted wait
// itself is restarted by the kernel as the tick returns, and traps.
//
// WHY THIS MECHANISM (docs/design.md, "Futex waits outside libc"):
// - The kernel clears it at execve and does not copy it to a fork's child, so
//   a program exec'd without ptshim, setuid or not, runs exactly as natively;
//   the fork child of a ptshim process turns it on again with its next thread.
//   A seccomp filter would survive execve (and trap in a program that has no
//   handler for it) and needs no_new_privs, which strips setuid programs of
//   their privileges; rewriting the call sites needs a disassembler.
// - Once on, every system call takes the kernel's slower entry path: about
//   45 ns more per call measured here (getppid, best of 20 runs: 202 ns
//   without, 248 with). That is why it is turned on only when a program shows
//   it needs it, never for one that makes all its calls through libc. The
//   allowed range is libc's code, where nearly every call is made; a call
//   outside it costs a signal (about 3 us here): libgomp's futex calls, the
//   loader's calls in dlopen, a library's own `syscall` instructions.
//
// INVARIANTS
// - ptshim's own system calls execute the `syscall; ret` found inside libc's
//   code (arch::raw_syscall), so they never trap.
// - The handler runs on the thread's own stack with SIGSYS unblocked
//   (SA_NODEFER): a futex wait parks the thread inside the handler while the
//   others run, and any of them may trap too. The kernel refuses to deliver a
//   blocked SIGSYS (it kills), so SIGSYS is one of the signals ptshim never
//   blocks (core/signal/table.cc).
// - A trapped futex call parks its thread only from where a switch is safe:
//   a thread ptshim runs, outside the core, at a safe pc (core/sched/
//   preempt.cc, rule 2), not on a signal stack. Anywhere else it is made in
//   the kernel, as before.
// - A call whose return the handler cannot stand in for (one that returns on
//   a new stack or into another context, or changes the mask the handler's
//   return restores) is let through: the selector opens for it, and closes at
//   the next tick.
// - The tick's check costs nothing once the trap is on; before, it reads the
//   two bytes at the interrupted pc only when that pc is outside libc.
#include <errno.h>
#include <link.h>
#include <linux/futex.h>
#include <linux/prctl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/diag/diag.h"
#include "core/io/io.h"
#include "core/signal/signal.h"

extern "C" const char* gnu_get_libc_version();

namespace ptshim {

namespace {
constexpr int kSysUserDispatch = 2;  // si_code of a trapped call (asm-generic/siginfo.h)

// The kernel reads it at every call from outside the range.
volatile char g_selector = SYSCALL_DISPATCH_FILTER_BLOCK;
uintptr_t g_libc_code, g_libc_code_size;
bool g_available;  // libc's code and a `syscall; ret` in it were found
bool g_enabled;

int find_libc_code(dl_phdr_info* info, size_t, void*) {
  auto inside = reinterpret_cast<uintptr_t>(&gnu_get_libc_version);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    if (inside >= lo && inside < lo + ph.p_memsz) {
      g_libc_code = lo;
      g_libc_code_size = ph.p_memsz;
      return 1;
    }
  }
  return 0;
}

bool must_let_through(long number) {
  switch (number) {
    case SYS_clone:
    case SYS_clone3:
    case SYS_fork:
    case SYS_vfork:
    case SYS_rt_sigreturn:
    case SYS_rt_sigprocmask:
      return true;
    default:
      return false;
  }
}

bool may_park_here(const void* ucontext) {
  return tls_on_scheduler_thread && g_in_core == 0 && pc_is_safe(arch::interrupted_pc(ucontext)) &&
         !on_signal_stack();
}

void on_trapped_syscall(int sig, siginfo_t* info, void* ucontext) {
  if (info->si_code != kSysUserDispatch) {
    crash_signal(sig, info, ucontext);  // a seccomp filter's, or one sent: the program's
    return;
  }
  int saved_errno = errno;
  long a[6];
  long number = arch::trapped_syscall(ucontext, a);
  long result;
  if (must_let_through(number)) {
    g_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
    arch::repeat_trapped_syscall(ucontext);
    errno = saved_errno;
    return;
  }
  if (number == SYS_futex && may_park_here(ucontext)) {
    enter_core();
    result = futex_call(reinterpret_cast<uint32_t*>(a[0]), static_cast<int>(a[1]),
                        static_cast<uint32_t>(a[2]), reinterpret_cast<const timespec*>(a[3]),
                        reinterpret_cast<uint32_t*>(a[4]), static_cast<uint32_t>(a[5]));
    leave_core();
  } else {
    result = arch::raw_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  }
  arch::set_trapped_syscall_result(ucontext, result);
  errno = saved_errno;
}
}  // namespace

void syscall_trap_init() {
  dl_iterate_phdr(find_libc_code, nullptr);
  if (g_libc_code == 0) return;
  const void* site =
      arch::find_syscall_site(reinterpret_cast<const void*>(g_libc_code), g_libc_code_size);
  if (site == nullptr) return;
  ptshim_syscall_site = site;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_trapped_syscall;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (__sigaction(SIGSYS, &sa, nullptr) != 0) return;
  g_available = true;
}

void syscall_trap_on_tick(const void* ucontext) {
  g_selector = SYSCALL_DISPATCH_FILTER_BLOCK;
  if (g_enabled || !g_available) return;
  // A tick that finds the thread in a futex wait outside libc: untimed, to
  // be restarted with the number back in rax; timed, ended with EINTR (the
  // number is lost then: any system call outside libc that a tick ended
  // shows the object makes its own blocking calls).
  long number, args[6];
  uintptr_t pc = arch::interrupted_pc(ucontext);
  if (pc - g_libc_code < g_libc_code_size) return;
  bool waiting = arch::interrupted_syscall(ucontext, &number, args)
                     ? number == SYS_futex
                     : arch::interrupted_syscall_ended(ucontext, args);
  if (!waiting) return;
  // Fails on kernels before 5.11 or without it: such waits then sleep in the
  // kernel until a tick parks them (io_park_interrupted_call).
  g_enabled = arch::raw_syscall(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON,
                                static_cast<long>(g_libc_code), static_cast<long>(g_libc_code_size),
                                reinterpret_cast<long>(&g_selector)) == 0;
  if (!g_enabled) g_available = false;
}

void syscall_trap_after_fork_in_child() { g_enabled = false; }

}  // namespace ptshim
