// The deadline heap: every timed wait (sleeps, timed locks, timed condvar
// waits, timed joins) is one entry, keyed by its CLOCK_MONOTONIC deadline.
// A binary min-heap with each thread's slot stored in the thread, so a wait
// that ends early is removed in O(log n).
#include "core/sched/sched.h"

namespace ptshim {

namespace {
Thread** g_heap;  // g_heap[0 .. g_count)
size_t g_count;
size_t g_capacity;

void place(size_t i, Thread* t) {
  g_heap[i] = t;
  t->heap_slot = static_cast<uint32_t>(i + 1);
}

void sift_up(size_t i) {
  Thread* t = g_heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (g_heap[parent]->deadline_ns <= t->deadline_ns) break;
    place(i, g_heap[parent]);
    i = parent;
  }
  place(i, t);
}

void sift_down(size_t i) {
  Thread* t = g_heap[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= g_count) break;
    if (child + 1 < g_count && g_heap[child + 1]->deadline_ns < g_heap[child]->deadline_ns) {
      ++child;
    }
    if (t->deadline_ns <= g_heap[child]->deadline_ns) break;
    place(i, g_heap[child]);
    i = child;
  }
  place(i, t);
}

void grow() { g_heap = internal_grow(g_heap, g_count, &g_capacity, 256); }
}  // namespace

void deadline_insert(Thread* t, uint64_t deadline_ns) {
  if (g_count == g_capacity) grow();
  t->deadline_ns = deadline_ns;
  place(g_count++, t);
  sift_up(g_count - 1);
}

void deadline_remove(Thread* t) {
  size_t i = t->heap_slot - 1;
  t->heap_slot = 0;
  Thread* last = g_heap[--g_count];
  if (i == g_count) return;
  place(i, last);
  sift_up(i);
  sift_down(last->heap_slot - 1);
}

void deadline_reset() {
  for (size_t i = 0; i < g_count; ++i) g_heap[i]->heap_slot = 0;
  g_count = 0;
}

bool deadline_any() { return g_count != 0; }

uint64_t deadline_earliest_ns() { return g_heap[0]->deadline_ns; }

Thread* deadline_pop_expired(uint64_t now_ns) {
  if (g_count == 0 || g_heap[0]->deadline_ns > now_ns) return nullptr;
  Thread* t = g_heap[0];
  deadline_remove(t);
  return t;
}

}  // namespace ptshim
