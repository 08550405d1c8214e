// Unit tests of the deadline heap (deadline.cc): pop order, removal from
// every position, heap_slot bookkeeping, reset and growth past the first
// 256 entries. The heap is global: every test starts with deadline_reset().
#include <cstdint>
#include <cstdio>

#include "core/sched/sched.h"
#include "core/testing/check.h"

using namespace ptshim;

namespace {

constexpr size_t kThreads = 1500;  // past 256 and 512 and 1024: three growths
Thread g_threads[kThreads];        // zero-initialised, as the scheduler's slots

uint64_t g_rng = 0x9e3779b97f4a7c15u;
uint64_t next_random() {  // xorshift64
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

void fresh() {
  deadline_reset();
  for (Thread& t : g_threads) {
    t.heap_slot = 0;
    t.deadline_ns = 0;
  }
}

// The heap as heap_slot says it is: every slot 1..count held by exactly one
// of g_threads, and no deadline earlier than its parent's (slot s / 2).
// Returns the count, or SIZE_MAX after reporting a broken invariant.
Thread* g_by_slot[kThreads + 1];
size_t check_heap(const char* where) {
  for (Thread*& t : g_by_slot) t = nullptr;
  size_t count = 0;
  bool ok = true;
  for (Thread& t : g_threads) {
    if (t.heap_slot == 0) continue;
    ++count;
    if (t.heap_slot > kThreads || g_by_slot[t.heap_slot] != nullptr) {
      ok = false;
      continue;
    }
    g_by_slot[t.heap_slot] = &t;
  }
  for (size_t s = 1; ok && s <= count; ++s) {
    if (g_by_slot[s] == nullptr) ok = false;
  }
  for (size_t s = 2; ok && s <= count; ++s) {
    if (g_by_slot[s]->deadline_ns < g_by_slot[s / 2]->deadline_ns) ok = false;
  }
  if (ok && count > 0 && deadline_earliest_ns() != g_by_slot[1]->deadline_ns) ok = false;
  if (ok && deadline_any() != (count > 0)) ok = false;
  if (!ok) printf("heap invariant broken: %s\n", where);
  CHECK(ok);
  return ok ? count : SIZE_MAX;
}

// Pops everything; checks the order is by deadline and every popped thread
// left the heap. Returns how many were popped.
size_t drain_in_order() {
  size_t n = 0;
  uint64_t last = 0;
  bool sorted = true, slots_cleared = true;
  while (Thread* t = deadline_pop_expired(UINT64_MAX)) {
    if (t->deadline_ns < last) sorted = false;
    if (t->heap_slot != 0) slots_cleared = false;
    last = t->deadline_ns;
    ++n;
    if (n > kThreads) break;
  }
  CHECK(sorted);
  CHECK(slots_cleared);
  CHECK(!deadline_any());
  return n;
}

void test_empty() {
  fresh();
  CHECK(!deadline_any());
  CHECK_EQ(deadline_pop_expired(0), nullptr);
  CHECK_EQ(deadline_pop_expired(UINT64_MAX), nullptr);
}

void test_single() {
  fresh();
  Thread* t = &g_threads[0];
  deadline_insert(t, 500);
  CHECK(deadline_any());
  CHECK_EQ(t->heap_slot, 1u);
  CHECK_EQ(t->deadline_ns, 500u);
  CHECK_EQ(deadline_earliest_ns(), 500u);
  CHECK_EQ(deadline_pop_expired(499), nullptr);
  CHECK(deadline_any());
  CHECK_EQ(deadline_pop_expired(500), t);  // due exactly at its deadline
  CHECK_EQ(t->heap_slot, 0u);
  CHECK(!deadline_any());
  CHECK_EQ(deadline_pop_expired(UINT64_MAX), nullptr);
}

void test_pop_only_expired() {
  fresh();
  deadline_insert(&g_threads[0], 30);
  deadline_insert(&g_threads[1], 10);
  deadline_insert(&g_threads[2], 20);
  CHECK_EQ(deadline_earliest_ns(), 10u);
  CHECK_EQ(deadline_pop_expired(5), nullptr);
  CHECK_EQ(deadline_pop_expired(10), &g_threads[1]);
  CHECK_EQ(deadline_pop_expired(10), nullptr);
  CHECK_EQ(deadline_earliest_ns(), 20u);
  CHECK_EQ(deadline_pop_expired(25), &g_threads[2]);
  CHECK_EQ(deadline_pop_expired(25), nullptr);
  CHECK_EQ(deadline_earliest_ns(), 30u);
  CHECK_EQ(check_heap("one left"), 1u);
  CHECK_EQ(deadline_pop_expired(UINT64_MAX), &g_threads[0]);
  CHECK(!deadline_any());
}

void test_random_order() {
  for (size_t n : {2u, 3u, 7u, 64u, 255u, 256u, 257u}) {
    fresh();
    for (size_t i = 0; i < n; ++i) deadline_insert(&g_threads[i], 1 + next_random() % 1000);
    CHECK_EQ(check_heap("random inserts"), n);
    CHECK_EQ(drain_in_order(), n);
  }
}

void test_sorted_and_reversed_inserts() {
  fresh();
  for (size_t i = 0; i < 300; ++i) deadline_insert(&g_threads[i], 1000 + i);
  CHECK_EQ(check_heap("ascending inserts"), 300u);
  for (size_t i = 0; i < 300; ++i) {
    if (!CHECK_EQ(deadline_pop_expired(UINT64_MAX), &g_threads[i])) break;
  }
  CHECK(!deadline_any());
  fresh();
  for (size_t i = 0; i < 300; ++i) deadline_insert(&g_threads[i], 1000 - i);
  CHECK_EQ(check_heap("descending inserts"), 300u);
  CHECK_EQ(deadline_earliest_ns(), 701u);
  for (size_t i = 300; i-- > 0;) {
    if (!CHECK_EQ(deadline_pop_expired(UINT64_MAX), &g_threads[i])) break;
  }
  CHECK(!deadline_any());
}

void test_equal_deadlines() {
  fresh();
  constexpr size_t n = 100;
  for (size_t i = 0; i < n; ++i) deadline_insert(&g_threads[i], 42);
  CHECK_EQ(check_heap("equal deadlines"), n);
  CHECK_EQ(deadline_pop_expired(41), nullptr);
  bool seen[n] = {};
  bool each_once = true;
  for (size_t i = 0; i < n; ++i) {
    Thread* t = deadline_pop_expired(42);
    if (t == nullptr || t < g_threads || t >= g_threads + n || seen[t - g_threads]) {
      each_once = false;
      break;
    }
    seen[t - g_threads] = true;
  }
  CHECK(each_once);
  CHECK(!deadline_any());

  // Equal and distinct deadlines mixed: the equal ones come out together.
  fresh();
  for (size_t i = 0; i < 60; ++i) deadline_insert(&g_threads[i], i % 3 == 0 ? 50 : 10 * (i % 7));
  CHECK_EQ(check_heap("mixed equal"), 60u);
  CHECK_EQ(drain_in_order(), 60u);
}

// Builds [1, 100, 2, 101, 102, 3, 4] (in slot order), as the inserts in this
// order leave it, for removals that must sift up, down or not at all.
void build_seven() {
  fresh();
  const uint64_t d[] = {1, 100, 2, 101, 102, 3, 4};
  for (size_t i = 0; i < 7; ++i) deadline_insert(&g_threads[i], d[i]);
}

void test_remove_positions() {
  // The last slot: nothing moves.
  build_seven();
  CHECK_EQ(g_threads[6].heap_slot, 7u);
  deadline_remove(&g_threads[6]);
  CHECK_EQ(g_threads[6].heap_slot, 0u);
  CHECK_EQ(check_heap("removed last"), 6u);
  CHECK_EQ(drain_in_order(), 6u);

  // The first slot: the last entry sifts down from the root.
  build_seven();
  CHECK_EQ(g_threads[0].heap_slot, 1u);
  deadline_remove(&g_threads[0]);
  CHECK_EQ(g_threads[0].heap_slot, 0u);
  CHECK_EQ(check_heap("removed first"), 6u);
  CHECK_EQ(deadline_earliest_ns(), 2u);
  CHECK_EQ(drain_in_order(), 6u);

  // The middle, where the last entry (4) is smaller than the removed one's
  // parent (100): it must sift up.
  build_seven();
  CHECK_EQ(g_threads[3].heap_slot, 4u);
  deadline_remove(&g_threads[3]);
  CHECK_EQ(g_threads[3].heap_slot, 0u);
  CHECK_EQ(check_heap("removed middle, sift up"), 6u);
  CHECK_EQ(g_threads[6].heap_slot, 2u);  // 4 went up to 100's place
  CHECK_EQ(drain_in_order(), 6u);

  // The middle, where the last entry must sift down: 2 at slot 3 goes, the
  // last entry (4) takes its place and sinks below its child 3.
  build_seven();
  CHECK_EQ(g_threads[2].heap_slot, 3u);
  deadline_remove(&g_threads[2]);
  CHECK_EQ(check_heap("removed middle, sift down"), 6u);
  CHECK_EQ(g_threads[5].heap_slot, 3u);  // 3 moved up into slot 3
  CHECK_EQ(drain_in_order(), 6u);

  // Removing the only entry, then removing down to empty one by one.
  fresh();
  deadline_insert(&g_threads[0], 9);
  deadline_remove(&g_threads[0]);
  CHECK_EQ(g_threads[0].heap_slot, 0u);
  CHECK(!deadline_any());
  build_seven();
  for (size_t i : {4u, 1u, 6u, 0u, 5u, 3u, 2u}) {
    deadline_remove(&g_threads[i]);
    CHECK_EQ(g_threads[i].heap_slot, 0u);
    check_heap("removing all");
  }
  CHECK(!deadline_any());
}

// Random inserts, removals and pops against a plain array of what should be
// in the heap.
void test_random_mix() {
  fresh();
  constexpr size_t n = 600;
  bool in[n] = {};
  size_t count = 0;
  bool pop_ok = true;
  for (int step = 0; step < 20000; ++step) {
    size_t i = next_random() % n;
    uint64_t r = next_random() % 10;
    if (!in[i] && r < 5) {
      deadline_insert(&g_threads[i], 1 + next_random() % 5000);
      in[i] = true;
      ++count;
    } else if (in[i] && r < 8) {
      deadline_remove(&g_threads[i]);
      in[i] = false;
      --count;
    } else if (count > 0 && r == 9) {
      uint64_t min = UINT64_MAX;
      for (size_t j = 0; j < n; ++j) {
        if (in[j] && g_threads[j].deadline_ns < min) min = g_threads[j].deadline_ns;
      }
      Thread* t = deadline_pop_expired(min);
      if (t == nullptr || t->deadline_ns != min || !in[t - g_threads] || t->heap_slot != 0) {
        pop_ok = false;
        break;
      }
      in[t - g_threads] = false;
      --count;
      if (deadline_pop_expired(min - 1) != nullptr) pop_ok = false;
    }
    if (step % 500 == 0 && check_heap("random mix") != count) break;
  }
  CHECK(pop_ok);
  CHECK_EQ(check_heap("after random mix"), count);
  CHECK_EQ(drain_in_order(), count);
}

void test_reset() {
  fresh();
  for (size_t i = 0; i < 50; ++i) deadline_insert(&g_threads[i], 100 + i);
  deadline_reset();
  CHECK(!deadline_any());
  CHECK_EQ(deadline_pop_expired(UINT64_MAX), nullptr);
  bool cleared = true;
  for (size_t i = 0; i < 50; ++i) cleared &= g_threads[i].heap_slot == 0;
  CHECK(cleared);
  CHECK_EQ(check_heap("after reset"), 0u);
  // Usable again, and the reset threads may be inserted anew.
  deadline_insert(&g_threads[7], 3);
  deadline_insert(&g_threads[3], 7);
  CHECK_EQ(check_heap("after reset, reinserted"), 2u);
  CHECK_EQ(deadline_pop_expired(UINT64_MAX), &g_threads[7]);
  CHECK_EQ(deadline_pop_expired(UINT64_MAX), &g_threads[3]);
  CHECK(!deadline_any());
  deadline_reset();  // empty: no effect
  CHECK(!deadline_any());
}

void test_growth() {
  fresh();
  for (size_t i = 0; i < kThreads; ++i) {
    deadline_insert(&g_threads[i], 1 + next_random() % 100000);
    if (i == 255 || i == 256 || i == 511 || i == 512 || i == 1023 || i == 1024) {
      CHECK_EQ(check_heap("growing"), i + 1);
    }
  }
  CHECK_EQ(check_heap("grown"), kThreads);
  // Remove a third from all over the heap, then pop the rest in order.
  for (size_t i = 0; i < kThreads; i += 3) deadline_remove(&g_threads[i]);
  CHECK_EQ(check_heap("grown, after removals"), kThreads - kThreads / 3);
  CHECK_EQ(drain_in_order(), kThreads - kThreads / 3);
  // The grown heap survives a reset and refills.
  for (size_t i = 0; i < kThreads; ++i) deadline_insert(&g_threads[i], kThreads - i);
  CHECK_EQ(check_heap("refilled"), kThreads);
  CHECK_EQ(deadline_earliest_ns(), 1u);
  deadline_reset();
  CHECK_EQ(check_heap("refilled, reset"), 0u);
}

void test_extreme_deadlines() {
  fresh();
  deadline_insert(&g_threads[0], UINT64_MAX);
  deadline_insert(&g_threads[1], 1);
  deadline_insert(&g_threads[2], UINT64_MAX - 1);
  CHECK_EQ(deadline_pop_expired(0), nullptr);
  CHECK_EQ(deadline_pop_expired(1), &g_threads[1]);
  CHECK_EQ(deadline_pop_expired(UINT64_MAX - 2), nullptr);
  CHECK_EQ(deadline_pop_expired(UINT64_MAX), &g_threads[2]);
  CHECK_EQ(deadline_pop_expired(UINT64_MAX), &g_threads[0]);
  CHECK(!deadline_any());
}

}  // namespace

int main() {
  test_empty();
  test_single();
  test_pop_only_expired();
  test_random_order();
  test_sorted_and_reversed_inserts();
  test_equal_deadlines();
  test_remove_positions();
  test_random_mix();
  test_reset();
  test_growth();
  test_extreme_deadlines();
  return ptshim::testing::finish();
}
