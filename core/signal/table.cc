// The facts about each signal that ptshim needs, in one table: its name, its
// default action (signal(7)) and what ptshim does with it.
#include <signal.h>

#include "core/signal/signal.h"

namespace ptshim {

namespace {
using enum SignalDefault;

struct Entry {
  int sig;
  SignalFacts facts;
};
constexpr Entry kTable[] = {
    {SIGHUP, {"SIGHUP", kTerminate, kRoleNone}},
    {SIGINT, {"SIGINT", kTerminate, kRoleNone}},
    {SIGQUIT, {"SIGQUIT", kCore, kRoleNone}},
    {SIGILL, {"SIGILL", kCore, kRoleReported | kRoleSynchronous}},
    {SIGTRAP, {"SIGTRAP", kCore, kRoleNone}},
    {SIGABRT, {"SIGABRT", kCore, kRoleReported}},
    {SIGBUS, {"SIGBUS", kCore, kRoleReported | kRoleSynchronous}},
    {SIGFPE, {"SIGFPE", kCore, kRoleReported | kRoleSynchronous}},
    {SIGKILL, {"SIGKILL", kTerminate, kRoleNone}},
    {SIGUSR1, {"SIGUSR1", kTerminate, kRoleNone}},
    {SIGSEGV, {"SIGSEGV", kCore, kRoleReported | kRoleSynchronous}},
    {SIGUSR2, {"SIGUSR2", kTerminate, kRoleNone}},
    {SIGPIPE, {"SIGPIPE", kTerminate, kRoleNone}},
    {SIGALRM, {"SIGALRM", kTerminate, kRolePreempt}},
    {SIGTERM, {"SIGTERM", kTerminate, kRoleNone}},
    {SIGSTKFLT, {"SIGSTKFLT", kTerminate, kRoleNone}},
    {SIGCHLD, {"SIGCHLD", kIgnore, kRoleNone}},
    {SIGCONT, {"SIGCONT", kContinue, kRoleNone}},
    {SIGSTOP, {"SIGSTOP", kStop, kRoleNone}},
    {SIGTSTP, {"SIGTSTP", kStop, kRoleNone}},
    {SIGTTIN, {"SIGTTIN", kStop, kRoleNone}},
    {SIGTTOU, {"SIGTTOU", kStop, kRoleNone}},
    {SIGURG, {"SIGURG", kIgnore, kRoleNone}},
    {SIGXCPU, {"SIGXCPU", kCore, kRoleNone}},
    {SIGXFSZ, {"SIGXFSZ", kCore, kRoleNone}},
    {SIGVTALRM, {"SIGVTALRM", kTerminate, kRoleNone}},
    {SIGPROF, {"SIGPROF", kTerminate, kRoleNone}},
    {SIGWINCH, {"SIGWINCH", kIgnore, kRoleNone}},
    {SIGIO, {"SIGIO", kTerminate, kRoleNone}},
    {SIGPWR, {"SIGPWR", kTerminate, kRoleNone}},
    {SIGSYS, {"SIGSYS", kCore, kRoleReported | kRoleSynchronous}},  // also the trap
};
// Real-time signals and any not listed: terminate, nothing of ptshim's.
constexpr SignalFacts kOther = {"signal", kTerminate, kRoleNone};

constexpr uint64_t signals_with(uint8_t roles) {
  uint64_t mask = 0;
  for (const Entry& e : kTable) {
    if ((e.facts.roles & roles) != 0) mask |= signal_bit(e.sig);
  }
  return mask;
}
constexpr uint64_t kAlwaysDelivered = signals_with(kRoleSynchronous | kRolePreempt);
constexpr uint64_t kManaged = signals_with(kRoleReported | kRolePreempt);
bool g_trap_managed;  // a seeded run: SIGTRAP counts instructions (core/sched/step.cc)
}  // namespace

void signal_manage_trap() { g_trap_managed = true; }

const SignalFacts& signal_facts(int sig) {
  for (const Entry& e : kTable) {
    if (e.sig == sig) return e.facts;
  }
  return kOther;
}

const char* signal_name(int sig) { return signal_facts(sig).name; }

bool signal_is_managed(int sig) {
  if (sig <= 0 || sig >= NSIG) return false;
  return (kManaged & signal_bit(sig)) != 0 || sig == options().dump_signal ||
         (sig == SIGTRAP && g_trap_managed);
}

bool signal_is_routed_when_handled(int sig) {
  return signal_is_managed(sig) && (signal_facts(sig).roles & kRoleSynchronous) == 0 &&
         sig != SIGTRAP;
}

uint64_t signals_always_delivered() {
  return kAlwaysDelivered | (g_trap_managed ? signal_bit(SIGTRAP) : 0);
}

}  // namespace ptshim
