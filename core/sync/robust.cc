// Robust mutexes: this process's robust list, in the kernel's format
// (linux/futex.h, kernel/futex/core.c: exit_robust_list), so that when the
// process dies the kernel marks each mutex it holds FUTEX_OWNER_DIED and
// wakes a waiter; and, within the process, a user thread that exits holding
// one does the same for it (robust_owner_exited).
//
// Invariants:
// - The list holds exactly the robust mutexes that this process's user
//   threads hold: linked after the lock word names this process, unlinked
//   before it stops naming it. `pending` names the mutex while a link or
//   unlink is under way, so a death in between is handled by the kernel too.
// - The list is this process's: its pointers are addresses in this process
//   and are read only here and by the kernel at our death. Another process
//   sees them in the shared bytes but never follows them (it writes them
//   only once it holds the mutex, when they are unlinked).
// - Registered once, lazily, by the first robust lock (glibc's own list for
//   the main thread, which ptshim's interposed mutexes never use, is
//   replaced); in a fork child again by its first robust lock, with an
//   empty list, as glibc's.
#include <linux/futex.h>
#include <sys/syscall.h>

#include "core/sync/sync.h"

namespace ptshim {

namespace {
constexpr int kRobustListLimit = 2048;  // the kernel's ROBUST_LIST_LIMIT
robust_list_head g_head;
bool g_registered;
uint32_t g_tid;

robust_list* node_of(SharedMutex* m) { return reinterpret_cast<robust_list*>(&m->robust_next); }
SharedMutex* mutex_of(robust_list* n) {
  return reinterpret_cast<SharedMutex*>(reinterpret_cast<char*>(n) -
                                        __builtin_offsetof(SharedMutex, robust_next));
}

void ensure_registered() {
  if (g_registered) return;
  g_head.list.next = &g_head.list;
  // The kernel finds the lock word at node + futex_offset.
  g_head.futex_offset = static_cast<long>(__builtin_offsetof(SharedMutex, word)) -
                        static_cast<long>(__builtin_offsetof(SharedMutex, robust_next));
  g_head.list_op_pending = nullptr;
  arch::raw_syscall(SYS_set_robust_list, reinterpret_cast<long>(&g_head), sizeof g_head);
  g_registered = true;
}
}  // namespace

uint32_t process_tid() {
  if (g_tid == 0) g_tid = static_cast<uint32_t>(arch::raw_syscall(SYS_gettid));
  return g_tid;
}

void robust_set_pending(SharedMutex* m) {
  ensure_registered();
  g_head.list_op_pending = m != nullptr ? node_of(m) : nullptr;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);  // the kernel reads it at our death
}

void robust_link(SharedMutex* m) {
  ensure_registered();
  robust_list* n = node_of(m);
  robust_list* first = g_head.list.next;
  n->next = first;
  m->robust_prev = &g_head.list;
  if (first != &g_head.list) mutex_of(first)->robust_prev = n;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  g_head.list.next = n;
}

void robust_unlink(SharedMutex* m) {
  robust_list* n = node_of(m);
  auto* prev = static_cast<robust_list*>(m->robust_prev);
  robust_list* next = n->next;
  if (prev == nullptr || next == nullptr) return;  // not on the list
  prev->next = next;
  if (next != &g_head.list) mutex_of(next)->robust_prev = prev;
  m->robust_next = m->robust_prev = nullptr;
}

// As the kernel's walk, bounded: a program that overwrote a mutex it holds
// (a memset, a new init) may have broken the list, which then ends here.
void robust_owner_exited(Thread* t) {
  if (!g_registered) return;
  uint32_t holder = kHolderMark | static_cast<uint32_t>(t->number);
  robust_list* n = g_head.list.next;
  for (int left = kRobustListLimit; n != &g_head.list && n != nullptr && left > 0; --left) {
    SharedMutex* m = mutex_of(n);
    n = n->next;
    if (m->holder != holder || (m->word & FUTEX_TID_MASK) != process_tid()) continue;
    robust_set_pending(m);
    robust_unlink(m);
    m->holder = kHolderMark;
    m->depth = 0;
    // What the kernel does at a process's death (handle_futex_death).
    uint32_t old = __atomic_load_n(&m->word, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&m->word, &old, (old & FUTEX_WAITERS) | FUTEX_OWNER_DIED,
                                        false, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
    }
    robust_set_pending(nullptr);
    if ((old & FUTEX_WAITERS) != 0) shared_wake(&m->word, 1, m->process_shared != 0);
  }
}

// The kernel gives a child no robust list, and the parent's entries are the
// parent's (in its memory, or held by threads the child does not have). The
// child's first robust lock registers a new one: after fork has returned,
// so after glibc's own re-registration in the child, whatever its order
// with the atfork handlers.
void sync_after_fork_in_child() {
  g_tid = 0;
  g_registered = false;
}

}  // namespace ptshim
