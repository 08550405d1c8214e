// flockfile's locks. glibc's own FILE lock is owned by a control block, and
// a user thread suspended while holding it would make the next thread that
// wants it block the kernel thread on a futex. ptshim keeps a recursive
// mutex of its own per FILE instead, found by address in an open-addressing
// table (entries are never removed: a FILE address reused after fclose gets
// the same, unlocked, mutex).
//
// glibc's internal stdio locking stays off (see docs/design.md), so a stdio
// call never waits for another thread's flockfile region. To keep such a
// region whole anyway, a thread holding any file lock is not preempted
// (core/sched/preempt.cc); it can still block or yield inside it.
#include "core/sync/sync.h"

namespace ptshim {

namespace {
struct Entry {
  const void* file;
  Mutex* mutex;
};
Entry* g_table;
size_t g_capacity;  // a power of two
size_t g_used;

size_t slot_for(const void* file, size_t capacity) {
  auto h = reinterpret_cast<uintptr_t>(file);
  h ^= h >> 17;
  h *= 0x9e3779b97f4a7c15u;
  return static_cast<size_t>(h >> 20) & (capacity - 1);
}

void insert(Entry* table, size_t capacity, Entry e) {
  size_t i = slot_for(e.file, capacity);
  while (table[i].file != nullptr) i = (i + 1) & (capacity - 1);
  table[i] = e;
}

void grow() {
  size_t capacity = g_capacity == 0 ? 64 : g_capacity * 2;
  auto* table = static_cast<Entry*>(internal_alloc_zeroed(capacity * sizeof(Entry)));
  for (size_t i = 0; i < g_capacity; ++i) {
    if (g_table[i].file != nullptr) insert(table, capacity, g_table[i]);
  }
  if (g_table != nullptr) internal_free(g_table, g_capacity * sizeof(Entry));
  g_table = table;
  g_capacity = capacity;
}
}  // namespace

Mutex* file_lock_of(const void* file) {
  if (g_capacity != 0) {
    for (size_t i = slot_for(file, g_capacity); g_table[i].file != nullptr;
         i = (i + 1) & (g_capacity - 1)) {
      if (g_table[i].file == file) return g_table[i].mutex;
    }
  }
  if ((g_used + 1) * 4 > g_capacity * 3) grow();
  auto* m = static_cast<Mutex*>(internal_alloc_zeroed(sizeof(Mutex)));
  m->kind = kMutexRecursive;
  insert(g_table, g_capacity, Entry{file, m});
  ++g_used;
  return m;
}

}  // namespace ptshim
