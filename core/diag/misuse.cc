// API misuse warnings (PTSHIM_MISUSE): calls POSIX leaves undefined, or
// that fail in a way the program rarely checks, that glibc lets pass:
// unlocking a mutex the caller does not hold, destroying a busy mutex or
// condvar, waiting on a condvar with a mutex not held or with two mutexes at
// once, re-initialising a live object, exiting with mutexes held, joining a
// detached thread. Each is one report: "ptshim: misuse: <what>" and the
// caller's stack, once per call site and kind (report_first_time), so a
// loop that repeats the bug says it once. warn (the default) goes on with
// glibc's result; abort then dies by SIGABRT; off says nothing.
//
// The call and its site are the running thread's Thread::call_function and
// call_site, which the shim entry points set.
#include <signal.h>

#include "core/diag/diag.h"
#include "core/sync/sync.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
enum class Misuse : uint8_t {
  kUnlockNotHeld = 1,
  kDestroyBusy,
  kCondNotHeld,
  kCondTwoMutexes,
  kReinitLive,
  kExitHolding,
  kJoinDetached,
};

// True when this misuse at this site is to be reported (and g_reporting set).
bool begin(Misuse what, uintptr_t site) {
  if (options().misuse == MisuseMode::kOff || g_reporting) return false;
  if (!report_first_time(site ^ static_cast<uintptr_t>(what) << 57)) return false;
  report_while_others_run_begin();
  return true;
}

const char* call_name() {
  const char* f = current()->call_function;
  return f != nullptr ? f : "a call";
}

// The caller's stack (none for an exit: the thread's stack is then
// ptshim's own), then the end of the report (death under abort).
void end(Writer& w, bool with_stack = true) {
  if (with_stack && options().backtraces) write_backtrace(w, backtrace_running(nullptr));
  w.flush();
  if (options().misuse == MisuseMode::kAbort) die_by_signal(SIGABRT);
  report_while_others_run_end();
}

void write_holder(Writer& w, const Thread* owner) {
  if (owner == nullptr) {
    w.str(" (unlocked)");
  } else if (thread_is_valid(owner)) {
    write_thread_name(w.str(" (held by "), owner);
    if (owner->state == ThreadState::kExited) w.str(", exited");
    w.chr(')');
  } else {
    w.str(" (held by a thread that no longer exists)");
  }
}
}  // namespace

void misuse_unlock_not_held(const Mutex* m) {
  Thread* self = current();
  if (!begin(Misuse::kUnlockNotHeld, self->call_site)) return;
  Writer w;
  as_report(w);
  write_lock_name(w.str("ptshim: misuse: ").str(call_name()).str(" of "), m, LockKind::kMutex);
  write_thread_name(w.str(" not held by "), self);
  write_holder(w, m->owner);
  w.chr('\n');
  end(w);
}

void misuse_destroy_busy(const void* object, LockKind kind) {
  Thread* self = current();
  if (!begin(Misuse::kDestroyBusy, self->call_site)) return;
  Writer w;
  as_report(w);
  write_lock_name(w.str("ptshim: misuse: ").str(call_name()).str(" of "), object, kind);
  if (kind == LockKind::kMutex) {
    const auto* m = static_cast<const Mutex*>(object);
    if (m->owner != nullptr) {
      w.str(" locked");
      write_holder(w, m->owner);
    } else {
      w.str(" with waiters");
    }
  } else {
    w.str(" with waiters");
  }
  write_thread_name(w.str(", by "), self);
  w.str(" (EBUSY)\n");
  end(w);
}

void misuse_cond_mutex_not_held(const Cond* c, const Mutex* m) {
  Thread* self = current();
  if (!begin(Misuse::kCondNotHeld, self->call_site)) return;
  Writer w;
  as_report(w);
  write_lock_name(w.str("ptshim: misuse: ").str(call_name()).str(" on "), c, LockKind::kCond);
  write_lock_name(w.str(" with "), m, LockKind::kMutex);
  write_thread_name(w.str(" not held by "), self);
  write_holder(w, m->owner);
  w.chr('\n');
  end(w);
}

void misuse_cond_two_mutexes(const Cond* c, const Mutex* m, const Mutex* others) {
  Thread* self = current();
  if (!begin(Misuse::kCondTwoMutexes, self->call_site)) return;
  Writer w;
  as_report(w);
  write_lock_name(w.str("ptshim: misuse: ").str(call_name()).str(" on "), c, LockKind::kCond);
  write_lock_name(w.str(" with "), m, LockKind::kMutex);
  write_thread_name(w.str(" by "), self);
  write_lock_name(w.str(", while other threads wait on it with "), others, LockKind::kMutex);
  w.chr('\n');
  end(w);
}

void misuse_reinit_live(const void* object, LockKind kind) {
  Thread* self = current();
  if (!begin(Misuse::kReinitLive, self->call_site)) return;
  Writer w;
  as_report(w);
  write_lock_name(w.str("ptshim: misuse: ").str(call_name()).str(" of live "), object, kind);
  switch (kind) {
    case LockKind::kMutex: {
      const auto* m = static_cast<const Mutex*>(object);
      if (m->owner != nullptr) {
        w.str(", locked");
        write_holder(w, m->owner);
      } else {
        w.str(", with waiters");
      }
      break;
    }
    case LockKind::kRwWrite:
    case LockKind::kRwRead:
      w.str(", held or waited for");
      break;
    default:
      w.str(", with waiters");
      break;
  }
  write_thread_name(w.str(", by "), self);
  w.chr('\n');
  end(w);
}

void misuse_exit_holding(const Thread* t) {
  // The site: where it took the first lock it still holds (the exit itself
  // is the same return or pthread_exit for every thread of a kind).
  uintptr_t site = held_count(t) != 0 ? held_site(held_entry(t, 0)) : t->call_site;
  if (!begin(Misuse::kExitHolding, site)) return;
  Writer w;
  as_report(w);
  write_thread_name(w.str("ptshim: misuse: "), t);
  w.str(" exits holding ").dec(held_count(t) + t->held_overflow).str(" lock(s):\n");
  write_held_locks(w, t);
  end(w, false);
}

void misuse_join_detached(const Thread* target) {
  Thread* self = current();
  if (!begin(Misuse::kJoinDetached, self->call_site)) return;
  Writer w;
  as_report(w);
  write_thread_name(w.str("ptshim: misuse: ").str(call_name()).str(" of detached "), target);
  write_thread_name(w.str(" by "), self);
  w.str(" (EINVAL)\n");
  end(w);
}

}  // namespace ptshim
