// Reports to stderr, written with write(2) from a stack buffer: they may be
// made with the heap or stdio in any state.
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/runtime.h"

namespace ptshim {

Writer& Writer::chr(char c) {
  if (len == sizeof buf) flush();
  buf[len++] = c;
  return *this;
}

Writer& Writer::str(const char* s) {
  while (*s != '\0') chr(*s++);
  return *this;
}

Writer& Writer::dec(uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) chr(digits[--n]);
  return *this;
}

Writer& Writer::sdec(int64_t v) {
  if (v < 0) {
    chr('-');
    return dec(static_cast<uint64_t>(-(v + 1)) + 1);
  }
  return dec(static_cast<uint64_t>(v));
}

Writer& Writer::hex(uint64_t v) {
  str("0x");
  char digits[16];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v != 0);
  while (n > 0) chr(digits[--n]);
  return *this;
}

void Writer::flush() {
  size_t done = 0;
  while (done < len) {
    long n = arch::raw_syscall(SYS_write, fd, reinterpret_cast<long>(buf + done),
                               static_cast<long>(len - done));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  len = 0;
}

void fatal(const char* message) {
  Writer().str(message).chr('\n');
  abort();
}

const char* wait_kind_name(WaitKind k) {
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
  }
  return "?";
}

namespace {
void describe_thread(Writer& w, const Thread* t) {
  w.str("  thread ").dec(t->number);
  if (t->is_main) w.str(" (main)");
  w.str(": ");
  switch (t->state) {
    case ThreadState::kExited:
      w.str("exited");
      break;
    case ThreadState::kBlocked:
      switch (t->wait_kind) {
        case WaitKind::kMutex: {
          const auto* m = static_cast<const Mutex*>(t->wait_object);
          w.str("waiting on mutex ").hex(reinterpret_cast<uintptr_t>(m));
          if (m->owner == nullptr) {
            w.str(" (unlocked)");
          } else if (thread_is_valid(m->owner)) {
            w.str(" held by thread ").dec(m->owner->number);
            if (m->owner == t) w.str(" (itself)");
            if (m->owner->state == ThreadState::kExited) w.str(" (exited)");
          } else {
            w.str(" held by a thread that no longer exists");
          }
          break;
        }
        case WaitKind::kJoin:
          w.str("joining thread ").dec(static_cast<const Thread*>(t->wait_object)->number);
          break;
        default:
          w.str("waiting on ").str(wait_kind_name(t->wait_kind)).chr(' ');
          w.hex(reinterpret_cast<uintptr_t>(t->wait_object));
          break;
      }
      break;
    default:
      w.str("runnable");
      break;
  }
  w.chr('\n');
}
}  // namespace

void report_deadlock_and_abort() {
  {
    Writer w;
    w.str("ptshim: deadlock: no thread can run and none is sleeping; ")
        .dec(live_thread_count())
        .str(" thread(s) blocked forever:\n");
    for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
      if (t->state != ThreadState::kExited) describe_thread(w, t);
    }
  }
  // Die by SIGABRT even if the program ignores or handles it.
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  __sigaction(SIGABRT, &dfl, nullptr);
  abort();
}

}  // namespace ptshim
