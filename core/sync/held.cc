// Lock sites and held locks: which locks each thread holds and where it took
// them, and where each private object was first locked, for the reports
// (core/diag: lock names, deadlocks, misuse warnings).
//
// INVARIANTS:
// - held_entry(t, 0 .. held_count(t)) are t's holds of private mutexes and
//   rwlocks, oldest first; holds beyond kHeldMax are only counted
//   (held_overflow).
//   A recursive mutex is one hold whatever its depth; a rwlock has one per
//   read hold. The fast paths push and pop the top entry only.
// - A site index is 1 + its position in g_sites, which only grows; an
//   object's index is written once, by the slow path of its first lock or
//   wait, and only into a private object's unused bytes.
#include <string.h>

#include "core/sync/sync.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
uintptr_t* g_sites;  // index - 1 -> site
size_t g_site_count, g_site_capacity;
uint32_t* g_slots;  // open addressing: site index, 0 for an empty slot
size_t g_slot_capacity;

size_t slot_of(uintptr_t site, size_t capacity) {
  return static_cast<size_t>((site * 0x9e3779b97f4a7c15ull) >> 20) & (capacity - 1);
}

void rehash() {
  size_t capacity = g_slot_capacity == 0 ? 256 : g_slot_capacity * 2;
  auto* slots = static_cast<uint32_t*>(internal_alloc_zeroed(capacity * sizeof(uint32_t)));
  for (size_t i = 0; i < g_site_count; ++i) {
    size_t k = slot_of(g_sites[i], capacity);
    while (slots[k] != 0) k = (k + 1) & (capacity - 1);
    slots[k] = static_cast<uint32_t>(i + 1);
  }
  if (g_slots != nullptr) internal_free(g_slots, g_slot_capacity * sizeof(uint32_t));
  g_slots = slots;
  g_slot_capacity = capacity;
}

// A pointer read from an object's bytes that names a thread that has not exited.
bool live_thread(const Thread* t) {
  return t != nullptr && thread_is_valid(t) && t->state != ThreadState::kExited;
}

bool waiter_blocked_on(const Thread* t, const void* object) {
  return live_thread(t) && t->state == ThreadState::kBlocked && t->wait_object == object;
}

uint32_t* first_site_word(void* object, LockKind kind) {
  switch (kind) {
    case LockKind::kMutex: {
      auto* m = static_cast<Mutex*>(object);
      return mutex_is_shared(m) ? nullptr : &m->reserved;
    }
    case LockKind::kRwWrite:
    case LockKind::kRwRead: {
      auto* l = static_cast<RwLock*>(object);
      return rwlock_is_shared(l) ? nullptr : &l->reserved;
    }
    case LockKind::kCond: {
      auto* c = static_cast<Cond*>(object);
      return cond_is_shared(c) ? nullptr : &c->reserved[0];
    }
    case LockKind::kSemaphore: {
      auto* s = static_cast<Semaphore*>(object);
      return semaphore_is_shared(s) ? nullptr : reinterpret_cast<uint32_t*>(&s->reserved);
    }
    case LockKind::kSpin:  // an int: no room
      break;
  }
  return nullptr;
}
}  // namespace

uint32_t site_intern(uintptr_t site) {
  if (site == 0) return 0;
  if (2 * (g_site_count + 1) > g_slot_capacity) rehash();
  size_t k = slot_of(site, g_slot_capacity);
  for (; g_slots[k] != 0; k = (k + 1) & (g_slot_capacity - 1)) {
    if (g_sites[g_slots[k] - 1] == site) return g_slots[k];
  }
  if (g_site_count == g_site_capacity) {
    size_t grown = g_site_capacity == 0 ? 256 : g_site_capacity * 2;
    auto* sites = static_cast<uintptr_t*>(internal_alloc_zeroed(grown * sizeof(uintptr_t)));
    if (g_site_count != 0) memcpy(sites, g_sites, g_site_count * sizeof(uintptr_t));
    if (g_sites != nullptr) internal_free(g_sites, g_site_capacity * sizeof(uintptr_t));
    g_sites = sites;
    g_site_capacity = grown;
  }
  g_sites[g_site_count++] = site;
  g_slots[k] = static_cast<uint32_t>(g_site_count);
  return g_slots[k];
}

uintptr_t site_at(uint32_t index) {
  return index != 0 && index <= g_site_count ? g_sites[index - 1] : 0;
}

void held_push_overflow(Thread* t) { ++t->held_overflow; }

void held_push(Thread* t, const void* object, LockKind kind, uintptr_t site) {
  if (uint32_t* word = first_site_word(const_cast<void*>(object), kind); word && *word == 0) {
    *word = site_intern(site);
  }
  if (held_count(t) == kHeldMax) {
    held_push_overflow(t);
    return;
  }
  *held_end(t) = HeldLock{object, site | static_cast<uintptr_t>(kind) << kHeldKindShift};
  t->held_bytes += sizeof(HeldLock);
}

// The shift is a loop the compiler must not make a memmove call of: ptshim
// imports no memmove (scripts/check-imports.sh).
[[gnu::optimize("no-tree-loop-distribute-patterns")]] void held_pop_below_top(Thread* t,
                                                                              const void* object,
                                                                              LockKind kind) {
  uint32_t n = held_count(t);
  for (uint32_t i = n; i-- > 0;) {
    if (held_entry(t, i).object != object || held_kind(held_entry(t, i)) != kind) continue;
    for (uint32_t k = i + 1; k < n; ++k) held_entry(t, k - 1) = held_entry(t, k);
    t->held_bytes -= sizeof(HeldLock);
    return;
  }
  if (t->held_overflow > 0 && n == kHeldMax) --t->held_overflow;
}

const HeldLock* held_find(const Thread* t, const void* object) {
  for (uint32_t i = held_count(t); i-- > 0;) {
    if (held_entry(t, i).object == object) return &held_entry(t, i);
  }
  return nullptr;
}

uintptr_t first_site_of(const void* object, LockKind kind) {
  const uint32_t* word = first_site_word(const_cast<void*>(object), kind);
  return word != nullptr ? site_at(*word) : 0;
}

bool mutex_is_live(const Mutex* m) {
  if (mutex_is_shared(m)) return false;
  return (live_thread(m->owner) &&
          (held_find(m->owner, m) != nullptr || m->owner->held_overflow)) ||
         waiter_blocked_on(m->waiters.head, m);
}

bool cond_is_live(const Cond* c) {
  return !cond_is_shared(c) && waiter_blocked_on(c->waiters.head, c);
}

bool rwlock_is_live(const RwLock* l) {
  if (rwlock_is_shared(l)) return false;
  if (live_thread(l->writer) && held_find(l->writer, l) != nullptr) return true;
  if (waiter_blocked_on(l->readers.head, l) || waiter_blocked_on(l->writers.head, l)) return true;
  if (l->active_readers == 0) return false;
  for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
    if (t->state != ThreadState::kExited && held_find(t, l) != nullptr) return true;
  }
  return false;
}

bool semaphore_is_live(const Semaphore* s) {
  return !semaphore_is_shared(s) && waiter_blocked_on(s->waiters.head, s);
}

const Mutex* cond_waiters_mutex(const Cond* c) {
  const Mutex* m;
  memcpy(&m, &c->reserved[1], sizeof m);
  return m;
}

}  // namespace ptshim
