// User threads: the thread table, creation, exit, join, detach, and what
// remains after fork.
//
// Thread structures live in one reserved region (committed lazily by the
// kernel), so a pthread_t — a Thread pointer — can be validated with a range
// check instead of being trusted, and a slot is reused after join or reap.
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/single_threaded.h>

#include "core/diag/diag.h"
#include "core/signal/signal.h"
#include "core/sync/sync.h"
#include "core/thread/thread.h"

namespace ptshim {

uintptr_t g_thread_table_lo, g_thread_table_hi;
Thread* g_all_threads;

namespace {
constexpr size_t kSlotSize = (sizeof(Thread) + 63) & ~size_t{63};

char* g_table;  // g_max_threads slots
size_t g_max_threads;
size_t g_slots_used;   // high-water mark
Thread* g_free_slots;  // linked through Thread::next
size_t g_live;         // threads not exited
size_t g_idle_own;     // of those, ptshim's own threads while idle
uint64_t g_next_number = 1;

// 2^21 slots (about 2 GiB of address space, committed only as used); under
// an address-space limit (ulimit -v) at most a sixteenth of it, leaving the
// rest to the stacks.
void reserve_table() {
  size_t slots = kThreadSlotsMax;
  rlimit limit;
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    while (slots > 1024 && slots * kSlotSize > limit.rlim_cur / 16) slots /= 2;
  }
  for (; slots >= 1024; slots /= 2) {
    void* p = mmap(nullptr, slots * kSlotSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
      g_table = static_cast<char*>(p);
      g_max_threads = slots;
      g_thread_table_lo = reinterpret_cast<uintptr_t>(p);
      g_thread_table_hi = g_thread_table_lo + slots * kSlotSize;
      return;
    }
  }
  fatal("ptshim: cannot reserve the thread table");
}

Thread* slot_alloc() {
  Thread* t = g_free_slots;
  if (t != nullptr) {
    g_free_slots = t->next;
  } else {
    if (g_slots_used == g_max_threads) return nullptr;
    t = reinterpret_cast<Thread*>(g_table + kSlotSize * g_slots_used++);
  }
  memset(static_cast<void*>(t), 0, offsetof(Thread, keys_first));
  t->number = g_next_number++;
  t->all_next = g_all_threads;
  if (g_all_threads != nullptr) g_all_threads->all_prev = t;
  g_all_threads = t;
  return t;
}

void slot_free(Thread* t) {
  if (t->all_prev != nullptr) {
    t->all_prev->all_next = t->all_next;
  } else {
    g_all_threads = t->all_next;
  }
  if (t->all_next != nullptr) t->all_next->all_prev = t->all_prev;
  key_release_storage(t);
  cputime_forget(t);
  if (t->affinity != nullptr) internal_free(t->affinity, sizeof(cpu_set_t));
  tls_release(t);
  stack_release(t);
  t->state = ThreadState::kFree;
  t->next = g_free_slots;
  g_free_slots = t;
}

void thread_entry() {
  mark_scheduler_thread();  // in this thread's own TLS block
  after_first_switch_in();
  Thread* self = current();
  leave_core();
  tls_on_thread_start(self);
  if (self->notify_routine != nullptr) {
    union sigval value;
    static_assert(sizeof value == sizeof self->start_arg);
    memcpy(&value, &self->start_arg, sizeof value);
    self->notify_routine(value);
    thread_exit(nullptr);
  }
  if (__builtin_expect(step_at_thread_start(), 0)) {
    // A seeded slice counts from the routine's first instruction. The three
    // kinds of routine all take one word in the first argument register;
    // the result is what the routine left in the result register.
    const void* routine = reinterpret_cast<const void*>(self->start_routine);
    if (self->c11_start_routine != nullptr) {
      routine = reinterpret_cast<const void*>(self->c11_start_routine);
    }
    void* result = arch::call_with_trap_flag(routine, self->start_arg);
    if (self->c11_start_routine != nullptr) {
      result = reinterpret_cast<void*>(
          static_cast<intptr_t>(static_cast<int>(reinterpret_cast<intptr_t>(result))));
    }
    thread_exit(result);
  }
  if (self->c11_start_routine != nullptr) {
    thread_exit(
        reinterpret_cast<void*>(static_cast<intptr_t>(self->c11_start_routine(self->start_arg))));
  }
  thread_exit(self->start_routine(self->start_arg));
}

void become_multithreaded() {
  // What glibc's own pthread_create would tell the rest of the process:
  // libstdc++ then uses atomic reference counts (single instructions, which a
  // preemption cannot split) and malloc takes its arena lock (never contended:
  // no thread is ever suspended inside libc).
  __libc_single_threaded = 0;
  tls_report_fallback_once();
  preempt_enable();
}
}  // namespace

Thread* adopt_main_thread() {
  reserve_table();
  Thread* t = slot_alloc();
  t->is_main = true;
  tls_initialize(t);
  signal_mask_adopt_first_thread(t);
  set_initial_current(t);
  thread_adopt_kernel_sched(t);
  g_live = 1;
  return t;
}

bool thread_is_slot(const Thread* t) {
  auto p = reinterpret_cast<const char*>(t);
  if (p < g_table || p >= g_table + kSlotSize * g_slots_used) return false;
  return static_cast<size_t>(p - g_table) % kSlotSize == 0;
}

bool thread_is_valid(const Thread* t) {
  return thread_is_slot(t) && t->state != ThreadState::kFree;
}

size_t thread_slot(const Thread* t) {
  return static_cast<size_t>(reinterpret_cast<const char*>(t) - g_table) / kSlotSize;
}

Thread* thread_in_slot(size_t slot) {
  if (slot >= g_slots_used) return nullptr;
  auto* t = reinterpret_cast<Thread*>(g_table + kSlotSize * slot);
  return t->state != ThreadState::kFree ? t : nullptr;
}

Thread* all_threads_head() { return g_all_threads; }
size_t live_thread_count() { return g_live; }
size_t active_thread_count() { return g_live - g_idle_own; }

void attr_set_defaults(ThreadAttr* a) {
  *a = ThreadAttr{};
  a->guard_size = page_size();
}

int thread_create(const ThreadAttr& attr, void* (*start)(void*), void* arg, uintptr_t created_at,
                  Thread** out, uintptr_t site) {
  Thread* self = current();
  // As glibc: explicit scheduling takes from the attribute what was set in
  // it, the rest from the creator, and the kernel then judges the result
  // against the creator's (the new kernel thread starts with them).
  int policy = self->sched_policy, priority = self->sched_priority;
  if (attr.has(ThreadAttr::kExplicitSched)) {
    if (attr.has(ThreadAttr::kPolicySet)) policy = attr.sched_policy;
    if (attr.has(ThreadAttr::kSchedParamSet)) priority = attr.sched_priority;
    if (int err = sched_params_check(self, policy, priority)) return err;
  }
  TlsBlock tls;
  if (!tls_prepare(&tls)) return EAGAIN;
  Thread* t = slot_alloc();
  if (t == nullptr) {
    tls_discard(tls);
    return EAGAIN;
  }
  size_t size = attr.stack_size != 0 ? attr.stack_size : options().default_stack_size;
  if (attr.has(ThreadAttr::kUserStack)) {
    stack_adopt_user_stack(t, static_cast<char*>(attr.stack_top) - size, size);
  } else {
    if (int err = stack_allocate(t, size, attr.guard_size)) {
      tls_discard(tls);
      slot_free(t);
      return err;
    }
  }
  tls_bind(t, tls);
  t->start_routine = start;
  t->start_arg = arg;
  t->detached = attr.has(ThreadAttr::kDetached);
  thread_set_sched(t, policy, priority);
  signal_thread_start(t, self);  // the mask is inherited, as POSIX says
  const auto* extension = static_cast<const GlibcAttrExtension*>(attr.glibc_extension);
  if (extension != nullptr && extension->sigmask_set) {
    // glibc's helper threads block every signal this way.
    signal_mask_swap(t,
                     signal_mask_from_set(reinterpret_cast<const sigset_t*>(extension->sigmask)));
  }
  t->creator_number = self->number;
  t->creator_slot = thread_slot(self);
  t->created_at = created_at;
  t->creation_site = site != 0 ? site : created_at;
  callable_record(t, start, arg);  // names a std::thread in reports
  arch::context_init(&t->context, t->stack_lo, t->stack_size, thread_entry);
  if (g_live == 1) become_multithreaded();
  ++g_live;
  if (__builtin_expect(g_observe, 0)) observe_thread_created(t, g_live);
  // glibc starts a thread with explicit scheduling at its creator's priority
  // and then sets its own, so on Linux one set below its creator's is lowered
  // while runnable, which puts it ahead of its equals (sched(7)).
  make_runnable(t, t->level < self->level);
  *out = t;
  return 0;
}

void thread_exit(void* result) {
  enter_core();
  Thread* self = current();
  if (__builtin_expect(g_observe, 0)) observe_thread_exit(self);
  // glibc's order: C++ thread_local destructors, then key destructors.
  leave_core();
  tls_run_destructors();
  enter_core();
  key_run_destructors(self);
  if (self->held_bytes + self->held_overflow != 0) misuse_exit_holding(self);
  robust_owner_exited(self);  // its next locker gets EOWNERDEAD
  self->result = result;
  if (active_thread_count() == 1) {
    // The last thread: the process ends as with glibc's threads, by exit(0).
    // (An idle thread of ptshim's has no work left that could ever come.)
    leave_core();
    exit(0);
  }
  --g_live;
  signal_thread_exit(self);
  mutex_protocol_owner_exited(self);
  self->state = ThreadState::kExited;
  // The joiner may be running a signal handler instead of waiting (it looks
  // at the state again when its wait resumes).
  Thread* joiner = self->joiner;
  if (joiner != nullptr && joiner->state == ThreadState::kBlocked &&
      joiner->wait_kind == WaitKind::kJoin && joiner->wait_object == self) {
    wake(joiner, WakeReason::kWoken);
  }
  exit_current_and_schedule();
}

int thread_join(Thread* t, void** result, uint64_t deadline_ns, bool try_only) {
  Thread* self = current();
  if (!thread_is_valid(t)) return ESRCH;
  if (t->detached) {
    misuse_join_detached(t);
    return EINVAL;
  }
  if (t == self || self->joiner == t) return EDEADLK;
  if (t->joiner != nullptr && t->joiner != self) return EINVAL;
  if (t->state == ThreadState::kExited) {
    scheduling_point(SchedPoint::kUncontendedLock);  // a wait that did not wait
  } else {
    if (try_only) return EBUSY;
    t->joiner = self;
    if (deadline_ns == 0) deadlock_check_before_block(WaitKind::kJoin, t);
    while (t->state != ThreadState::kExited) {
      WakeReason reason = block(nullptr, WaitKind::kJoin, t, deadline_ns);
      // After a signal's handler the join waits on, as glibc's does.
      if ((reason == WakeReason::kTimedOut || reason == WakeReason::kInterrupted) &&
          t->state != ThreadState::kExited) {
        t->joiner = nullptr;
        return reason == WakeReason::kTimedOut ? ETIMEDOUT : ECANCELED;
      }
    }
  }
  if (result != nullptr) *result = t->result;
  slot_free(t);
  return 0;
}

int thread_detach(Thread* t) {
  if (!thread_is_valid(t)) return ESRCH;
  if (t->detached) return EINVAL;
  if (t->state == ThreadState::kExited) {
    slot_free(t);
    return 0;
  }
  t->detached = true;
  return 0;
}

void reap_detached(Thread* t) { slot_free(t); }

int thread_create_own(void* (*start)(void*), const char* name, size_t stack_size, Thread** out) {
  ThreadAttr attr;
  attr_set_defaults(&attr);
  attr.set(ThreadAttr::kDetached, true);
  attr.stack_size = stack_size;
  Thread* t;
  if (int err = thread_create(attr, start, nullptr, 0, &t)) return err;
  // Before it first runs (creation does not switch).
  size_t len = strlen(name);
  memcpy(t->name, name, len < sizeof t->name ? len : sizeof t->name - 1);
  sigset_t all;
  sigemptyset(&all);
  for (int sig = 1; sig <= 64; ++sig) sigaddset(&all, sig);  // glibc refuses its own 32 and 33
  signal_mask_swap(t, signal_mask_from_set(&all));
  t->idle_own = true;
  ++g_idle_own;
  *out = t;
  return 0;
}

void thread_set_idle(Thread* t, bool idle) {
  if (t->idle_own == idle) return;
  t->idle_own = idle;
  if (!idle) {
    --g_idle_own;
    return;
  }
  ++g_idle_own;
  // Only `t` itself can find no active thread here: any other caller is one.
  if (active_thread_count() == 0) {
    leave_core();
    exit(0);
  }
}

void threads_after_fork_in_child() {
  // Only the forking thread exists in the child. The others' structures stay
  // allocated (kExited, never reaped), so a mutex still naming one as owner
  // does not name a new thread; their stacks and key storage are released.
  Thread* self = current();
  tls_after_fork_in_child(self);
  for (Thread* t = g_all_threads; t != nullptr; t = t->all_next) {
    if (t == self) continue;
    if (t->queue != nullptr) wait_queue_remove(t->queue, t);
    // Woken by an unlock but gone before it could retry: let the next
    // unlock wake someone else.
    if (t->state == ThreadState::kRunnable && t->wait_kind == WaitKind::kMutex) {
      static_cast<Mutex*>(const_cast<void*>(t->wait_object))->woken = 0;
    }
    t->queue = nullptr;
    t->heap_slot = 0;
    if (t->state != ThreadState::kExited) {
      t->state = ThreadState::kExited;
      t->detached = false;
      t->joiner = nullptr;
    }
    key_release_storage(t);
    stack_release(t);
  }
  g_live = 1;
  g_idle_own = 0;
}

}  // namespace ptshim
