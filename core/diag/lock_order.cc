// Lock-order checking (PTSHIM_LOCK_ORDER=1, docs/design.md "Lock order"):
// a graph of lock classes, an edge A->B when a thread takes B (blocking)
// while it holds A, and one report per cycle of that graph that could
// deadlock, whether or not this run did.
//
// Invariants:
// - Everything here runs inside the core, for the running thread, from the
//   shim's hooks (lock_order_locked and friends in diag.h), never for a call
//   made from inside the core (libunwind's own locks): the hooks pass those
//   over, so capturing a stack never records an acquisition of its own. A
//   hook that unwinds runs with g_reporting set (AsReport): nothing it calls
//   switches threads or waits.
// - All memory is internal_alloc_zeroed; nothing is ever freed but grown
//   tables. A report writes only what is stored (pcs, numbers, the thread's
//   name rendered when the edge was recorded) and allocates nothing.
// - A lock's class is fixed when it is initialised (pthread_*_init: the
//   program's call path there) or, never initialised, first locked; destroy
//   and re-init forget it. Two locks are one class when that path (its
//   innermost kClassPath frames) is the same: a loop making node locks
//   makes one class.
// - An edge keeps what decides whether a cycle through it is reported: the
//   threads that made it (one, or more than one), the locks held in write
//   mode at EVERY observation (gate candidates, an intersection that only
//   shrinks), and whether any observation had a write-mode end. When one of
//   those changes, the observation shown (thread, the two stacks) becomes
//   the new one and the cycles through the edge are searched again.
// - Cycles are searched only through an edge that just appeared or changed,
//   shortest first (iterative deepening from the edge's head back to its
//   tail, pruned by a reverse breadth-first distance), up to kMaxCycle locks
//   and kSearchSteps steps; each cycle is reported once (its classes,
//   rotated to start at the lowest, hashed into the reported keys of report_once.cc).
#include <dlfcn.h>
#include <link.h>

#include "core/diag/diag.h"
#include "core/sync/sync.h"
#include "core/thread/thread.h"

namespace ptshim {

bool g_lock_order;

namespace {
constexpr size_t kFrames = 16;    // stored per acquisition
constexpr size_t kOwnFrames = 8;  // ptshim's own frames above the program's call, at most
constexpr size_t kClassPath = 4;  // frames that identify a class
constexpr size_t kHeld = 16;      // locks tracked per thread; deeper ones are not
constexpr size_t kGates = 4;      // gate candidates kept per edge
constexpr size_t kMaxCycle = 8;   // locks in the longest cycle looked for
constexpr size_t kSearchSteps = 1u << 16;
constexpr size_t kEdgeBuckets = 4096;

struct Stack {
  uintptr_t pcs[kFrames];
  uint32_t n;
};

// A class is of one kind of lock: an rwlock's is kRwWrite whichever way it
// is taken (the mode is the edge's).
LockKind lock_family(LockKind k) { return k == LockKind::kRwRead ? LockKind::kRwWrite : k; }

struct Edge;
struct LockClass {
  uintptr_t path[kClassPath];  // path[0]: the site
  uint32_t path_n;
  uint32_t id;
  LockKind kind;
  bool initialised;  // by pthread_*_init (else first locked there)
  Edge* out;
  Edge* in;
  uint64_t stamp;  // search scratch: dist is valid when stamp is the search's
  uint32_t dist;   // edges from here to the searched edge's tail
  bool on_path;
};

struct Edge {
  LockClass* from;
  LockClass* to;
  Edge* next_out;
  Edge* next_in;
  Edge* next_hash;
  bool many_threads;
  bool any_write;
  uint32_t gate_n;
  const void* gates[kGates];
  // The observation shown: the first, or the last that changed the above.
  uint64_t thread;
  char thread_name[96];  // `thread 2 "t1"`, rendered then (the thread may be gone)
  const void* from_lock;
  const void* to_lock;
  bool from_write, to_write;
  Stack from_stack, to_stack;
};

struct Held {
  const void* lock;
  LockClass* cls;
  bool write;
  uint32_t count;  // recursive acquisitions
  Stack stack;
};

struct ThreadLocks {
  const Thread* thread;
  uint64_t number;
  uint32_t depth;
  Held held[kHeld];
};

// Open-addressed tables of pointers. Lock table: lock -> class, with
// tombstones for destroyed locks.
struct LockSlot {
  const void* lock;
  LockClass* cls;
};
const void* const kTombstone = reinterpret_cast<const void*>(1);
LockSlot* g_locks;
size_t g_locks_cap, g_locks_used;  // used counts tombstones
LockClass** g_classes;             // by id
size_t g_classes_n, g_classes_cap;
LockClass** g_class_index;  // by path hash
size_t g_class_index_cap;
Edge* g_edges[kEdgeBuckets];
ThreadLocks** g_threads;  // by Thread*
size_t g_threads_cap, g_threads_n;
LockClass** g_queue;  // the reverse search's
size_t g_queue_cap;
uint64_t g_stamp;
size_t g_steps;
uintptr_t g_own_lo, g_own_hi;  // libptshim's mapped range

size_t hash_ptr(const void* p) {
  return static_cast<size_t>((reinterpret_cast<uintptr_t>(p) >> 3) * 0x9e3779b97f4a7c15ull >> 17);
}
uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ull; }

template <typename T>
T* alloc_array(size_t n) {
  return static_cast<T*>(internal_alloc_zeroed(n * sizeof(T)));
}

// ---- the lock table ----
LockSlot* lock_slot(const void* lock, bool for_insert) {
  if (g_locks_cap == 0) return nullptr;
  size_t mask = g_locks_cap - 1;
  LockSlot* free_slot = nullptr;
  for (size_t i = hash_ptr(lock) & mask;; i = (i + 1) & mask) {
    LockSlot* s = &g_locks[i];
    if (s->lock == lock) return s;
    if (s->lock == kTombstone && free_slot == nullptr) free_slot = s;
    if (s->lock == nullptr) return for_insert ? (free_slot != nullptr ? free_slot : s) : nullptr;
  }
}

void locks_grow() {
  LockSlot* old = g_locks;
  size_t old_cap = g_locks_cap;
  g_locks_cap = old_cap == 0 ? 1024 : old_cap * 2;
  g_locks = alloc_array<LockSlot>(g_locks_cap);
  g_locks_used = 0;
  for (size_t i = 0; i < old_cap; ++i) {
    if (old[i].lock == nullptr || old[i].lock == kTombstone) continue;
    *lock_slot(old[i].lock, true) = old[i];
    ++g_locks_used;
  }
  if (old != nullptr) internal_free(old, old_cap * sizeof(LockSlot));
}

void lock_set_class(const void* lock, LockClass* cls) {
  if ((g_locks_used + 1) * 2 > g_locks_cap) locks_grow();
  LockSlot* s = lock_slot(lock, true);
  if (s->lock != lock) ++g_locks_used;
  s->lock = lock;
  s->cls = cls;
}

// ---- classes ----
uint64_t path_hash(const uintptr_t* path, size_t n, LockKind kind) {
  uint64_t h = 0xcbf29ce484222325ull ^ static_cast<uint64_t>(kind);
  for (size_t i = 0; i < n; ++i) h = mix(h, path[i]);
  return h;
}

bool same_path(const LockClass* c, const uintptr_t* path, size_t n, LockKind kind) {
  if (c->kind != kind || c->path_n != n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (c->path[i] != path[i]) return false;
  }
  return true;
}

void class_index_insert(LockClass* c) {
  size_t mask = g_class_index_cap - 1;
  size_t i = static_cast<size_t>(path_hash(c->path, c->path_n, c->kind)) & mask;
  while (g_class_index[i] != nullptr) i = (i + 1) & mask;
  g_class_index[i] = c;
}

LockClass* class_for(const Stack& at, LockKind kind, bool initialised) {
  size_t n = at.n < kClassPath ? at.n : kClassPath;
  if (g_class_index_cap != 0) {
    size_t mask = g_class_index_cap - 1;
    for (size_t i = static_cast<size_t>(path_hash(at.pcs, n, kind)) & mask;
         g_class_index[i] != nullptr; i = (i + 1) & mask) {
      LockClass* c = g_class_index[i];
      if (same_path(c, at.pcs, n, kind) && c->initialised == initialised) return c;
    }
  }
  auto* c = alloc_array<LockClass>(1);
  for (size_t i = 0; i < n; ++i) c->path[i] = at.pcs[i];
  c->path_n = static_cast<uint32_t>(n);
  c->kind = kind;
  c->initialised = initialised;
  c->id = static_cast<uint32_t>(g_classes_n);
  if (g_classes_n == g_classes_cap)
    g_classes = internal_grow(g_classes, g_classes_n, &g_classes_cap, 256);
  g_classes[g_classes_n++] = c;
  if (g_classes_n * 2 > g_class_index_cap) {
    if (g_class_index != nullptr)
      internal_free(g_class_index, g_class_index_cap * sizeof(LockClass*));
    g_class_index_cap = g_class_index_cap == 0 ? 512 : g_class_index_cap * 2;
    g_class_index = alloc_array<LockClass*>(g_class_index_cap);
    for (size_t i = 0; i < g_classes_n; ++i) class_index_insert(g_classes[i]);
  } else {
    class_index_insert(c);
  }
  return c;
}

// While a hook unwinds or names a thread, as while a report is written
// (diag.h): libunwind's own locks (and any of its callers') take no
// scheduling point, so nothing switches threads in the middle of a hook, and
// one held by a suspended thread (a program that uses libunwind itself) is
// passed over instead of waited for.
class AsReport {
 public:
  AsReport() : was_(g_reporting) { g_reporting = 1; }
  ~AsReport() { g_reporting = was_; }
  AsReport(const AsReport&) = delete;
  AsReport& operator=(const AsReport&) = delete;

 private:
  int was_;
};

// ---- stacks: the program's frames, from its call into ptshim ----
int find_own_object(dl_phdr_info* info, size_t, void* data) {
  auto base = reinterpret_cast<uintptr_t>(data);
  if (info->dlpi_addr != base) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    uintptr_t lo = info->dlpi_addr + ph.p_vaddr, hi = lo + ph.p_memsz;
    if (g_own_lo == 0 || lo < g_own_lo) g_own_lo = lo;
    if (hi > g_own_hi) g_own_hi = hi;
  }
  return 1;
}

bool is_own(uintptr_t pc) { return pc >= g_own_lo && pc < g_own_hi; }

void capture(Stack* s) {
  uintptr_t pcs[kFrames + kOwnFrames];
  size_t n = unwind_running(pcs, kFrames + kOwnFrames);
  size_t first = 0;
  while (first < n && is_own(pcs[first])) ++first;
  if (first == n) first = 0;
  s->n = 0;
  for (size_t i = first; i < n && s->n < kFrames; ++i) s->pcs[s->n++] = pcs[i];
}

// ---- threads ----
ThreadLocks** held_slot(const Thread* t) {
  size_t mask = g_threads_cap - 1;
  size_t i = hash_ptr(t) & mask;
  while (g_threads[i] != nullptr && g_threads[i]->thread != t) i = (i + 1) & mask;
  return &g_threads[i];
}

ThreadLocks* g_last;  // the last thread's, found without a probe when it asks again

ThreadLocks* thread_locks(const Thread* t) {
  if (g_last != nullptr && g_last->thread == t && g_last->number == t->number) return g_last;
  if ((g_threads_n + 1) * 2 > g_threads_cap) {
    ThreadLocks** old = g_threads;
    size_t old_cap = g_threads_cap;
    g_threads_cap = old_cap == 0 ? 64 : old_cap * 2;
    g_threads = alloc_array<ThreadLocks*>(g_threads_cap);
    for (size_t i = 0; i < old_cap; ++i) {
      if (old[i] != nullptr) *held_slot(old[i]->thread) = old[i];
    }
    if (old != nullptr) internal_free(old, old_cap * sizeof(ThreadLocks*));
  }
  ThreadLocks** slot = held_slot(t);
  if (*slot == nullptr) {
    *slot = alloc_array<ThreadLocks>(1);
    (*slot)->thread = t;
    (*slot)->number = t->number;
    ++g_threads_n;
  }
  ThreadLocks* tl = *slot;
  if (tl->number != t->number) {  // the slot of a thread that is gone
    tl->number = t->number;
    tl->depth = 0;
  }
  g_last = tl;
  return tl;
}

Held* find_held(ThreadLocks* tl, const void* lock) {
  for (uint32_t i = tl->depth; i-- > 0;) {
    if (tl->held[i].lock == lock) return &tl->held[i];
  }
  return nullptr;
}

// `thread 2 "t1"`, as reports name it, kept as text.
void render_thread_name(const Thread* t, char* out, size_t size) {
  Writer w;
  w.fd = -1;
  write_thread_name(w, t);
  size_t n = w.len < size - 1 ? w.len : size - 1;
  for (size_t i = 0; i < n; ++i) out[i] = w.buf[i];
  out[n] = '\0';
  w.len = 0;
}

// ---- the report ----

// A lock as this report names it: a global or static by its symbol, any
// other by its address. with_site: and where its class comes from.
void write_lock_class(Writer& w, const LockClass* c, const void* lock, bool with_site) {
  w.str(lock_kind_name(c->kind)).chr(' ');
  if (!write_lock_symbol(w, lock)) w.hex(reinterpret_cast<uintptr_t>(lock));
  if (!with_site) return;
  w.str(c->initialised ? ", initialised at " : ", first locked at ");
  if (c->path_n == 0) {
    w.str("an unknown site");
  } else {
    write_site(w, c->path[0]);
  }
}

void write_edge(Writer& w, const Edge* e) {
  w.str("  ").str(e->thread_name).str(" took ");
  write_lock_class(w, e->to, e->to_lock, false);
  if (e->to->kind == LockKind::kRwWrite) w.str(e->to_write ? " to write" : " to read");
  w.str(" at ");
  if (e->to_stack.n > 0) write_site(w, e->to_stack.pcs[0]);
  w.str(" while holding ");
  write_lock_class(w, e->from, e->from_lock, false);
  if (e->from->kind == LockKind::kRwWrite) w.str(e->from_write ? " (to write)" : " (to read)");
  w.str(" taken at ");
  if (e->from_stack.n > 0) write_site(w, e->from_stack.pcs[0]);
  w.chr('\n');
  w.str("  where it took ");
  write_lock_class(w, e->to, e->to_lock, false);
  w.str(":\n");
  write_backtrace(w, Backtrace{e->to_stack.pcs, e->to_stack.n, false});
  w.str("  where it had taken ");
  write_lock_class(w, e->from, e->from_lock, false);
  w.str(":\n");
  write_backtrace(w, Backtrace{e->from_stack.pcs, e->from_stack.n, false});
}

// found[0..n): edges in order, each one's `to` the next one's `from`; the
// first is the one that closed the cycle, written last (the others are older).
void report_cycle(Edge* const* found, size_t n) {
  Edge* cycle[kMaxCycle];
  for (size_t i = 0; i < n; ++i) cycle[i] = found[(i + 1) % n];
  {  // with g_reporting set: lock_order_acquired's AsReport
    Writer w;
    as_report(w);
    w.str("ptshim: lock-order cycle: ");
    for (size_t i = 0; i < n; ++i) {
      write_lock_class(w, cycle[i]->from, cycle[i]->from_lock, false);
      w.str(" -> ");
    }
    write_lock_class(w, cycle[0]->from, cycle[0]->from_lock, false);
    w.str("; ").dec(n).str(" locks taken in orders that can deadlock (the run goes on):\n");
    for (size_t i = 0; i < n; ++i) {
      w.str("  ");
      write_lock_class(w, cycle[i]->from, cycle[i]->from_lock, true);
      w.chr('\n');
    }
    for (size_t i = 0; i < n; ++i) write_edge(w, cycle[i]);
    w.str("ptshim: end of lock-order cycle\n");
  }
}

// ---- cycles ----
// The four shapes that cannot deadlock: one thread's edges only, a gate lock
// held at every edge, only read-mode acquisitions. (Trylocks make no edge.)
bool may_deadlock(Edge* const* cycle, size_t n) {
  bool one_thread = true, any_write = false;
  for (size_t i = 0; i < n; ++i) {
    if (cycle[i]->many_threads || cycle[i]->thread != cycle[0]->thread) one_thread = false;
    if (cycle[i]->any_write) any_write = true;
  }
  if (one_thread || !any_write) return false;
  for (uint32_t g = 0; g < cycle[0]->gate_n; ++g) {
    const void* gate = cycle[0]->gates[g];
    bool everywhere = true;
    for (size_t i = 1; i < n && everywhere; ++i) {
      bool here = false;
      for (uint32_t k = 0; k < cycle[i]->gate_n; ++k) here |= cycle[i]->gates[k] == gate;
      everywhere = here;
    }
    if (everywhere) return false;
  }
  return true;
}

uint64_t cycle_hash(Edge* const* cycle, size_t n) {
  size_t start = 0;
  for (size_t i = 1; i < n; ++i) {
    if (cycle[i]->from->id < cycle[start]->from->id) start = i;
  }
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) h = mix(h, cycle[(start + i) % n]->from->id + 1);
  return h | 1;  // 0 marks an empty slot
}

// Paths of exactly `left` more edges from `at` to `target`, simple, the
// first cycle that may deadlock and was not reported yet is reported.
bool search_paths(LockClass* at, LockClass* target, size_t left, Edge** cycle, size_t used) {
  for (Edge* e = at->out; e != nullptr; e = e->next_out) {
    if (++g_steps > kSearchSteps) return true;  // give up: as if found
    LockClass* next = e->to;
    cycle[used] = e;
    if (next == target) {
      if (left != 1) continue;
      uint64_t h = cycle_hash(cycle, used + 1);
      // The one set of reports already written (report_once.cc).
      if (!may_deadlock(cycle, used + 1) || !report_first_time(h)) continue;
      report_cycle(cycle, used + 1);
      return true;
    }
    if (left == 1 || next->on_path || next->stamp != g_stamp || next->dist > left - 1) continue;
    next->on_path = true;
    bool done = search_paths(next, target, left - 1, cycle, used + 1);
    next->on_path = false;
    if (done) return true;
  }
  return false;
}

// The shortest unreported cycle through `closing` that may deadlock.
void look_for_cycle(Edge* closing) {
  LockClass* tail = closing->from;  // paths run from closing->to back to here
  ++g_stamp;
  if (g_queue_cap < g_classes_n) {
    if (g_queue != nullptr) internal_free(g_queue, g_queue_cap * sizeof(LockClass*));
    g_queue_cap = g_classes_cap;
    g_queue = alloc_array<LockClass*>(g_queue_cap);
  }
  size_t head = 0, count = 0;
  tail->stamp = g_stamp;
  tail->dist = 0;
  g_queue[count++] = tail;
  while (head < count) {  // each class's distance to the tail, over edges into it
    LockClass* c = g_queue[head++];
    if (c->dist + 1 >= kMaxCycle) continue;
    for (Edge* e = c->in; e != nullptr; e = e->next_in) {
      if (e->from->stamp == g_stamp) continue;
      e->from->stamp = g_stamp;
      e->from->dist = c->dist + 1;
      g_queue[count++] = e->from;
    }
  }
  LockClass* start = closing->to;
  if (start->stamp != g_stamp) return;
  Edge* cycle[kMaxCycle];
  cycle[0] = closing;
  g_steps = 0;
  start->on_path = true;
  for (size_t len = start->dist; len + 1 <= kMaxCycle; ++len) {
    if (search_paths(start, tail, len, cycle, 1)) break;
  }
  start->on_path = false;
}

// ---- edges ----
Edge** edge_bucket(const LockClass* from, const LockClass* to) {
  return &g_edges[(from->id * 0x9e3779b1u ^ to->id) % kEdgeBuckets];
}

void show_observation(Edge* e, const Held& held, const void* lock, bool write, const Stack& at) {
  const Thread* self = current();
  e->thread = self->number;
  render_thread_name(self, e->thread_name, sizeof e->thread_name);
  e->from_lock = held.lock;
  e->to_lock = lock;
  e->from_write = held.write;
  e->to_write = write;
  e->from_stack = held.stack;
  e->to_stack = at;
}

void observe_edge(ThreadLocks* tl, const Held& held, LockClass* to, const void* lock, bool write,
                  const Stack& at) {
  const void* gates[kGates];
  uint32_t gate_n = 0;
  for (uint32_t i = 0; i < tl->depth && gate_n < kGates; ++i) {
    const Held& h = tl->held[i];
    if (h.lock != held.lock && h.write) gates[gate_n++] = h.lock;
  }
  bool any_write = held.write || write;
  Edge** bucket = edge_bucket(held.cls, to);
  Edge* e = *bucket;
  while (e != nullptr && (e->from != held.cls || e->to != to)) e = e->next_hash;
  if (e == nullptr) {
    e = alloc_array<Edge>(1);
    e->from = held.cls;
    e->to = to;
    e->next_hash = *bucket;
    *bucket = e;
    e->next_out = held.cls->out;
    held.cls->out = e;
    e->next_in = to->in;
    to->in = e;
    e->any_write = any_write;
    e->gate_n = gate_n;
    for (uint32_t i = 0; i < gate_n; ++i) e->gates[i] = gates[i];
    show_observation(e, held, lock, write, at);
    look_for_cycle(e);
    return;
  }
  bool changed = false;
  if (!e->many_threads && e->thread != current()->number) {
    e->many_threads = true;
    changed = true;
  }
  if (any_write && !e->any_write) {
    e->any_write = true;
    changed = true;
  }
  uint32_t kept = 0;
  for (uint32_t i = 0; i < e->gate_n; ++i) {
    bool still = false;
    for (uint32_t k = 0; k < gate_n; ++k) still |= gates[k] == e->gates[i];
    if (still) e->gates[kept++] = e->gates[i];
  }
  if (kept != e->gate_n) {
    e->gate_n = kept;
    changed = true;
  }
  if (!changed) return;
  show_observation(e, held, lock, write, at);
  look_for_cycle(e);
}
}  // namespace

void lock_order_start() {
  g_lock_order = true;
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&lock_order_start), &info) != 0) {
    dl_iterate_phdr(find_own_object, info.dli_fbase);
  }
}

void lock_order_init(const void* lock, LockKind kind) {
  kind = lock_family(kind);
  AsReport quiet;
  Stack at;
  capture(&at);
  lock_set_class(lock, class_for(at, kind, true));
}

void lock_order_forget(const void* lock) {
  LockSlot* s = lock_slot(lock, false);
  if (s != nullptr) s->lock = kTombstone;
}

void lock_order_acquired(const void* lock, LockKind kind, bool write, bool try_only) {
  kind = lock_family(kind);
  const Thread* self = current();
  ThreadLocks* tl = thread_locks(self);
  if (Held* h = find_held(tl, lock)) {  // a recursive mutex, a second read lock
    ++h->count;
    return;
  }
  if (tl->depth == kHeld) return;  // untracked
  AsReport quiet;
  Held& now = tl->held[tl->depth];
  capture(&now.stack);
  LockSlot* s = lock_slot(lock, false);
  LockClass* cls = s != nullptr ? s->cls : nullptr;
  if (cls == nullptr || cls->kind != kind) {
    cls = class_for(now.stack, kind, false);
    lock_set_class(lock, cls);
  }
  now.lock = lock;
  now.cls = cls;
  now.write = write;
  now.count = 1;
  if (!try_only) {
    for (uint32_t i = 0; i < tl->depth; ++i) {
      if (tl->held[i].cls != cls) observe_edge(tl, tl->held[i], cls, lock, write, now.stack);
    }
  }
  ++tl->depth;
}

void lock_order_released(const void* lock) {
  ThreadLocks* tl = thread_locks(current());
  Held* h = find_held(tl, lock);
  if (h == nullptr || --h->count > 0) return;
  // The held locks are a set (every one makes an edge): the last fills the hole.
  Held* last = &tl->held[--tl->depth];
  if (h != last) *h = *last;
}

}  // namespace ptshim
