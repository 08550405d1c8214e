// The counts of PTSHIM_STATS=1: threads, switches by why the thread left the
// processor, ticks deferred from unsafe points, time blocked per wait kind,
// and the locks threads blocked on most. core/diag/stats_text.cc prints them
// at exit.
//
// INVARIANTS:
// - Nothing here runs unless g_observe has kObserveStats, set once at
//   start-up: the hooks are observe.cc's (one predicted branch per site, on
//   slow paths; the lock fast paths have none), which call the counters
//   here, always inside the core section.
// - Times are cycle-counter ticks (the clock every hook can afford: no system
//   call), turned into nanoseconds at exit by the rate measured against
//   CLOCK_MONOTONIC over the whole run. They are real time even under virtual
//   time: a virtual sleep costs no real time and shows none.
// - The lock table holds an entry per contended lock object (an address),
//   in internal memory, open addressing with linear probing, grown by
//   doubling at half full up to kMaxLocks entries; waits on locks beyond that
//   are counted in locks_untracked.
#include <sys/syscall.h>

#include "core/sched/sched.h"

namespace ptshim {

Stats g_stats;

namespace {
constexpr size_t kFirstLocks = 256;
constexpr size_t kMaxLocks = size_t{1} << 20;

StatsLock* g_locks;
size_t g_lock_capacity;  // a power of two, or 0

bool is_lock(WaitKind kind) {
  return kind == WaitKind::kMutex || kind == WaitKind::kRwRead || kind == WaitKind::kRwWrite ||
         kind == WaitKind::kSpin;
}

size_t lock_slot(const void* object, size_t capacity) {
  uint64_t h = reinterpret_cast<uintptr_t>(object) * 0x9e3779b97f4a7c15u;
  return static_cast<size_t>(h >> 32) & (capacity - 1);
}

StatsLock* lock_probe(StatsLock* table, size_t capacity, const void* object) {
  size_t i = lock_slot(object, capacity);
  while (table[i].object != nullptr && table[i].object != object) i = (i + 1) & (capacity - 1);
  return &table[i];
}

void grow_lock_table() {
  size_t capacity = g_lock_capacity == 0 ? kFirstLocks : g_lock_capacity * 2;
  auto* table = static_cast<StatsLock*>(internal_alloc_zeroed(capacity * sizeof(StatsLock)));
  for (size_t i = 0; i < g_lock_capacity; ++i) {
    if (g_locks[i].object != nullptr) *lock_probe(table, capacity, g_locks[i].object) = g_locks[i];
  }
  if (g_locks != nullptr) internal_free(g_locks, g_lock_capacity * sizeof(StatsLock));
  g_locks = table;
  g_lock_capacity = capacity;
}

void note_lock_wait(WaitKind kind, const void* object, uint64_t cycles) {
  if (object == nullptr) return;
  if (g_stats.locks_contended * 2 >= g_lock_capacity) {
    if (g_lock_capacity < kMaxLocks) {
      grow_lock_table();
    } else if (lock_probe(g_locks, g_lock_capacity, object)->object == nullptr) {
      ++g_stats.locks_untracked;
      return;
    }
  }
  StatsLock* e = lock_probe(g_locks, g_lock_capacity, object);
  if (e->object == nullptr) {
    e->object = object;
    e->kind = kind;
    ++g_stats.locks_contended;
  }
  ++e->waits;
  e->cycles += cycles;
}

}  // namespace

void stats_count_deferred(DeferredFate fate, uint64_t waited) {
  if (fate == DeferredFate::kOvertaken) {
    ++g_stats.deferred_overtaken;
    return;
  }
  ++g_stats.deferred_taken;
  g_stats.deferred_cycles += waited;
  if (waited > g_stats.deferred_max_cycles) g_stats.deferred_max_cycles = waited;
}

void stats_count_wait_end(const Thread* t, uint64_t now) {
  uint64_t waited = now - t->stats_blocked_at;
  auto kind = static_cast<int>(t->wait_kind);
  ++g_stats.waits[kind];
  g_stats.wait_cycles[kind] += waited;
  if (is_lock(t->wait_kind)) note_lock_wait(t->wait_kind, t->wait_object, waited);
}

namespace {
void start_clock() {
  g_stats.start_cycles = arch::cycle_counter();
  g_stats.start_ns = real_monotonic_now_ns();
  g_stats.start_cpu_ns = kernel_thread_cpu_ns();
}
}  // namespace

void stats_start() {
  g_observe |= kObserveStats;
  start_clock();
  g_stats.alive_max = 1;
}

void stats_count_switch(SwitchWhy why, SchedPoint point) {
  ++g_stats.switches[static_cast<int>(why)];
  if (why == SwitchWhy::kPreempt) ++g_stats.preempted_at[static_cast<int>(point)];
}

void stats_count_thread_created(size_t alive) {
  ++g_stats.threads_created;
  if (alive > g_stats.alive_max) g_stats.alive_max = alive;
}

void stats_count_thread_exit() { ++g_stats.threads_exited; }

void stats_after_fork_in_child() {
  if (!stats_on()) return;
  if (g_locks != nullptr) internal_free(g_locks, g_lock_capacity * sizeof(StatsLock));
  g_locks = nullptr;
  g_lock_capacity = 0;
  g_stats = Stats{};
  g_stats.parent_pid = arch::raw_syscall(SYS_getppid);
  g_stats.alive_max = 1;
  start_clock();
}

namespace {
// The order of the list: most time waited, then most waits, then the lower
// address, so that it is the same however the table is laid out.
bool busier(const StatsLock& a, const StatsLock& b) {
  if (a.cycles != b.cycles) return a.cycles > b.cycles;
  if (a.waits != b.waits) return a.waits > b.waits;
  return a.object < b.object;
}
}  // namespace

// One scan of the table per place in the list (`max` is small), each taking
// the busiest lock below the one before: no sorting, no copying of runs.
size_t stats_busiest_locks(StatsLock* out, size_t max) {
  size_t n = 0;
  for (; n < max; ++n) {
    const StatsLock* best = nullptr;
    for (size_t i = 0; i < g_lock_capacity; ++i) {
      const StatsLock& e = g_locks[i];
      if (e.object == nullptr || (n > 0 && !busier(out[n - 1], e))) continue;
      if (best == nullptr || busier(e, *best)) best = &e;
    }
    if (best == nullptr) break;
    out[n] = *best;
  }
  return n;
}

uint64_t stats_ns(uint64_t cycles) {
  uint64_t elapsed_cycles = arch::cycle_counter() - g_stats.start_cycles;
  uint64_t elapsed_ns = real_monotonic_now_ns() - g_stats.start_ns;
  if (elapsed_cycles == 0) return 0;
  return static_cast<uint64_t>(static_cast<double>(cycles) * static_cast<double>(elapsed_ns) /
                               static_cast<double>(elapsed_cycles));
}

uint64_t stats_elapsed_ns() { return real_monotonic_now_ns() - g_stats.start_ns; }

uint64_t stats_cpu_ns() { return kernel_thread_cpu_ns() - g_stats.start_cpu_ns; }

}  // namespace ptshim
