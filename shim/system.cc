// system and aio_suspend, cancellation points (POSIX): a pending request is
// acted on at entry.
//
// system is glibc's algorithm (stdlib/system.c) with ptshim's wait: SIGINT
// and SIGQUIT are ignored while any system() call runs (counted, so
// concurrent calls restore them once), the caller blocks SIGCHLD, the shell
// is started with posix_spawn (its child resets those two and the mask), and
// the wait parks only the caller, so the other threads run while the command
// does. A request made during the wait is acted on when it ends (glibc kills
// the child instead).
//
// aio_suspend is glibc's own, found by version (dlvsym), so nothing reaches
// ptshim's symbols again; a request made by a signal handler during its wait
// is seen only at the next cancellation point.
#include <aio.h>
#include <dlfcn.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include "shim/io.h"

using namespace ptshim;

namespace {
void cancellation_point_at_entry(const char* function) {
  ShimEntry entry(function);
  if (!entry.nested()) CancellationPoint here;
}

template <typename Function>
Function glibc_function(const char* name, const char* version, const char* older_version) {
  void* f = dlvsym(RTLD_NEXT, name, version);
  if (f == nullptr) f = dlvsym(RTLD_NEXT, name, older_version);
  if (f == nullptr) fatal("ptshim: glibc's function is missing");
  return reinterpret_cast<Function>(f);
}
}  // namespace

namespace {
const char kShell[] = "/bin/sh";

uint32_t g_system_calls;  // under way: SIGINT and SIGQUIT are ignored meanwhile
struct sigaction g_before_int, g_before_quit;

int run_shell(const char* command) {
  struct sigaction ignore;
  memset(&ignore, 0, sizeof ignore);
  ignore.sa_handler = SIG_IGN;
  if (g_system_calls++ == 0) {
    program_sigaction(SIGINT, &ignore, &g_before_int);
    program_sigaction(SIGQUIT, &ignore, &g_before_quit);
  }
  sigset_t chld, before;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  {
    ShimEntry entry("system");
    signal_mask_change(current(), SIG_BLOCK, &chld, &before);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t reset;
  sigemptyset(&reset);
  if (g_before_int.sa_handler != SIG_IGN) sigaddset(&reset, SIGINT);
  if (g_before_quit.sa_handler != SIG_IGN) sigaddset(&reset, SIGQUIT);
  posix_spawnattr_setsigdefault(&attr, &reset);
  posix_spawnattr_setsigmask(&attr, &before);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  // glibc 2.36 passes no "--": a command that starts with '-' is an option to sh.
  char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(command),
                  nullptr};
  pid_t pid;
  int status = -1;
  int err = posix_spawn(&pid, kShell, nullptr, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  if (err == 0 && wait_for_child_uncancellable(pid, &status) != pid) status = -1;
  {
    ShimEntry entry("system");
    signal_mask_change(current(), SIG_SETMASK, &before, nullptr);
  }
  if (--g_system_calls == 0) {
    program_sigaction(SIGINT, &g_before_int, nullptr);
    program_sigaction(SIGQUIT, &g_before_quit, nullptr);
  }
  if (err != 0) errno = err;  // status stays -1, as glibc's
  return status;
}
}  // namespace

PTSHIM_EXPORT int system(const char* command) {
  cancellation_point_at_entry(__func__);
  // As glibc: a null command asks whether a shell is there.
  int status = run_shell(command != nullptr ? command : "exit 0");
  if (command == nullptr) return status == 0;
  cancellation_point_at_entry(__func__);
  return status;
}

namespace {
using Suspend = int (*)(const struct aiocb* const[], int, const timespec*);
int suspend(const char* function, const struct aiocb* const list[], int count,
            const timespec* timeout) {
  cancellation_point_at_entry(function);
  static auto glibc = glibc_function<Suspend>("aio_suspend", "GLIBC_2.34", "GLIBC_2.2.5");
  return glibc(list, count, timeout);
}
}  // namespace

PTSHIM_EXPORT int aio_suspend(const struct aiocb* const list[], int count,
                              const timespec* timeout) {
  return suspend(__func__, list, count, timeout);
}

// The same function in glibc (its aiocb64 is the aiocb on x86-64).
PTSHIM_EXPORT int aio_suspend64(const struct aiocb64* const list[], int count,
                                const timespec* timeout) {
  static_assert(sizeof(struct aiocb64) == sizeof(struct aiocb));
  return suspend(__func__, reinterpret_cast<const struct aiocb* const*>(list), count, timeout);
}
