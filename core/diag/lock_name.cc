// How reports name locks: a global or static object by its symbol and where
// it lies ("mutex a (dl+0x40a0)"), any other by its address and the site
// that first locked it ("mutex 0x7ffd... (first locked at <frame>)"), which
// core/sync records (held.cc). And the locks a thread holds, with the sites
// that took them.
#include "core/diag/diag.h"
#include "core/sync/sync.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
// Each name beside its enumerator; -Wswitch says when one is missing.
constexpr const char* lock_kind_text(LockKind kind) {
  switch (kind) {
    case LockKind::kMutex:
      return "mutex";
    case LockKind::kRwWrite:
    case LockKind::kRwRead:
      return "rwlock";
    case LockKind::kCond:
      return "condvar";
    case LockKind::kSemaphore:
      return "semaphore";
    case LockKind::kSpin:
      return "spinlock";
  }
  return "lock";
}

constexpr LockKindNames make_lock_kind_names() {
  LockKindNames t{};
  for (int i = 0; i < kLockKindCount; ++i) t.names[i] = lock_kind_text(static_cast<LockKind>(i));
  return t;
}
}  // namespace

constinit const LockKindNames kLockKindNames = make_lock_kind_names();

const char* lock_kind_name(LockKind kind) {
  auto i = static_cast<size_t>(kind);
  return i < kLockKindCount ? kLockKindNames.names[i] : "lock";
}

bool write_lock_symbol(Writer& w, const void* object) {
  auto addr = reinterpret_cast<uintptr_t>(object);
  static char symbol[512];  // reports are written one at a time
  uintptr_t offset;
  if (!data_symbol_of(object, symbol, sizeof symbol, &offset)) return false;
  write_symbol(w, symbol);  // a function's static (main::m) or a member, demangled
  if (offset != 0) w.str("+").hex(offset);
  w.str(" (").str(object_of(addr)).str("+").hex(addr - object_base_of(addr)).chr(')');
  return true;
}

void write_lock_name(Writer& w, const void* object, LockKind kind) {
  auto addr = reinterpret_cast<uintptr_t>(object);
  w.str(lock_kind_name(kind)).chr(' ');
  if (write_lock_symbol(w, object)) return;
  w.hex(addr);
  if (uintptr_t site = first_site_of(object, kind)) {
    bool waited = kind == LockKind::kCond || kind == LockKind::kSemaphore;
    w.str(waited ? " (first waited on at " : " (first locked at ");
    write_site(w, site);
    w.chr(')');
  }
}

void write_held_locks(Writer& w, const Thread* t) {
  for (uint32_t i = 0; i < held_count(t); ++i) {
    const HeldLock& h = held_entry(t, i);
    w.str("    holds ");
    write_lock_name(w, h.object, held_kind(h));
    if (held_kind(h) == LockKind::kRwRead) w.str(" (to read)");
    if (held_kind(h) == LockKind::kRwWrite) w.str(" (to write)");
    if (uintptr_t site = held_site(h)) {
      w.str(", locked at ");
      write_site(w, site);
    }
    w.chr('\n');
  }
  if (t->held_overflow != 0) w.str("    and ").dec(t->held_overflow).str(" more\n");
}

}  // namespace ptshim
