// How reports name threads and say what they are doing.
#include "core/diag/diag.h"
#include "core/sync/sync.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
// Each name beside its enumerator; -Wswitch says when one is missing.
constexpr const char* wait_kind_text(WaitKind k) {
  switch (k) {
    case WaitKind::kNone:
      return "nothing";
    case WaitKind::kMutex:
      return "mutex";
    case WaitKind::kCond:
      return "condvar";
    case WaitKind::kJoin:
      return "join";
    case WaitKind::kOnce:
      return "pthread_once";
    case WaitKind::kSleep:
      return "sleep";
    case WaitKind::kBarrier:
      return "barrier";
    case WaitKind::kRwRead:
      return "rwlock (to read)";
    case WaitKind::kRwWrite:
      return "rwlock (to write)";
    case WaitKind::kSemaphore:
      return "semaphore";
    case WaitKind::kSpin:
      return "spinlock";
    case WaitKind::kIo:
      return "file descriptors";
    case WaitKind::kFutex:
      return "futex";
    case WaitKind::kTimer:
      return "timers";
    case WaitKind::kChild:
      return "child process";
  }
  return "?";
}

constexpr WaitKindNames make_wait_kind_names() {
  WaitKindNames t{};
  for (int i = 0; i < kWaitKindCount; ++i) t.names[i] = wait_kind_text(static_cast<WaitKind>(i));
  return t;
}
}  // namespace

constinit const WaitKindNames kWaitKindNames = make_wait_kind_names();

const char* wait_kind_name(WaitKind k) {
  auto i = static_cast<size_t>(k);
  return i < kWaitKindCount ? kWaitKindNames.names[i] : "?";
}

void write_thread_name(Writer& w, const Thread* t) {
  w.str("thread ").dec(t->number).str(" \"");
  if (t->name[0] != '\0') {
    w.str(t->name);
  } else if (t->is_main) {
    w.str("main");
  } else if (write_callable_name(w, t)) {
    // a std::thread: the program's callable, not libstdc++'s start routine
  } else {
    static char symbol[1024];
    uintptr_t offset;
    auto start = t->notify_routine != nullptr ? reinterpret_cast<uintptr_t>(t->notify_routine)
                 : t->c11_start_routine != nullptr
                     ? reinterpret_cast<uintptr_t>(t->c11_start_routine)
                     : reinterpret_cast<uintptr_t>(t->start_routine);
    if (symbol_of(start, symbol, sizeof symbol, &offset) && offset == 0) {
      write_symbol(w, symbol);
    } else {  // a stripped object's local function: where it is, as frames say
      w.str(object_of(start)).str("+").hex(start - object_base_of(start));
    }
  }
  w.chr('"');
}

namespace {
uint64_t ms_until(uint64_t deadline_ns) {
  uint64_t now = monotonic_now_ns();
  return (deadline_ns > now ? deadline_ns - now : 0) / 1000000;
}
}  // namespace

void write_thread_state(Writer& w, const Thread* t) {
  switch (t->state) {
    case ThreadState::kExited:
      w.str("exited, not joined");
      return;
    case ThreadState::kRunning:
      w.str("running");
      return;
    case ThreadState::kRunnable:
      w.str("runnable");
      return;
    case ThreadState::kFree:
      w.str("gone");
      return;
    case ThreadState::kBlocked:
      break;
  }
  switch (t->wait_kind) {
    case WaitKind::kMutex: {
      const auto* m = static_cast<const Mutex*>(t->wait_object);
      write_lock_name(w.str("waiting on "), m, LockKind::kMutex);
      if (mutex_is_shared(m)) break;
      if (m->owner == nullptr) {
        w.str(" (unlocked)");
      } else if (thread_is_valid(m->owner)) {
        write_thread_name(w.str(" held by "), m->owner);
        if (m->owner == t) w.str(" (itself)");
        if (m->owner->state == ThreadState::kExited) w.str(" (exited)");
      } else {
        w.str(" held by a thread that no longer exists");
      }
      break;
    }
    case WaitKind::kRwRead:
    case WaitKind::kRwWrite: {
      const auto* l = static_cast<const RwLock*>(t->wait_object);
      bool read = t->wait_kind == WaitKind::kRwRead;
      write_lock_name(w.str("waiting on "), l, read ? LockKind::kRwRead : LockKind::kRwWrite);
      w.str(read ? " (to read)" : " (to write)");
      if (rwlock_is_shared(l)) break;
      if (l->writer != nullptr && thread_is_valid(l->writer)) {
        write_thread_name(w.str(" held by "), l->writer);
        if (l->writer == t) w.str(" (itself)");
      } else if (l->active_readers != 0) {
        w.str(" held by ").dec(l->active_readers).str(" reader(s)");
      }
      break;
    }
    case WaitKind::kCond:
      write_lock_name(w.str("waiting on "), t->wait_object, LockKind::kCond);
      break;
    case WaitKind::kSemaphore:
      write_lock_name(w.str("waiting on "), t->wait_object, LockKind::kSemaphore);
      break;
    case WaitKind::kJoin:
      write_thread_name(w.str("joining "), static_cast<const Thread*>(t->wait_object));
      break;
    case WaitKind::kSleep:
      w.str("sleeping");
      break;
    case WaitKind::kChild:
      w.str("waiting for a child process");
      break;
    case WaitKind::kTimer:  // ptshim's timer notifier: its deadline is the next expiration
      w.str("waiting for timers, ");
      if (t->heap_slot == 0) {
        w.str("none armed");
      } else {
        w.str("next expiry in ").dec(ms_until(t->deadline_ns)).str(" ms");
      }
      return;
    default:
      w.str("waiting on ").str(wait_kind_name(t->wait_kind)).chr(' ');
      w.hex(reinterpret_cast<uintptr_t>(t->wait_object));
      break;
  }
  if (t->heap_slot != 0) w.str(", timeout in ").dec(ms_until(t->deadline_ns)).str(" ms");
}

void write_creation(Writer& w, const Thread* t) {
  if (t->is_main || t->created_at == 0) return;
  w.str("  created by ");
  const Thread* creator = thread_in_slot(t->creator_slot);
  if (creator != nullptr && creator->number == t->creator_number) {
    write_thread_name(w, creator);
  } else {  // exited and joined since
    w.str("thread ").dec(t->creator_number);
  }
  w.str(" at ");
  uintptr_t site = t->creation_site != 0 ? t->creation_site : t->created_at;
  write_site(w, site);
  w.chr('\n');
}

void write_thread_dump(Writer& w, const Backtrace& running) {
  for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
    write_thread_name(w.str("  "), t);
    w.str(": ");
    write_thread_state(w, t);
    w.chr('\n');
    if (t->state != ThreadState::kExited) {
      write_held_locks(w, t);
      write_backtrace(w, t == current() ? running : backtrace_saved(t));
    }
    write_creation(w, t);
  }
}

}  // namespace ptshim
