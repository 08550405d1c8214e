// Waiting for file descriptors. A user thread that would block in I/O waits
// here instead of in the kernel, so the one kernel thread keeps running the
// others. Each waiter lends its own pollfd array (on its stack); the
// scheduler polls the union of them:
// - with a zero timeout while threads run (at most every kPollIntervalNs,
//   from the scheduler and from timer ticks, which keep coming while anyone
//   waits for I/O), and
// - with the time left to the earliest deadline (or none) when nothing can
//   run: the kernel thread then sleeps in ppoll instead of clock_nanosleep.
// A ready fd wakes its waiter, which makes its own call again.
#include <poll.h>
#include <sys/syscall.h>

#include "core/io/io.h"

namespace ptshim {

namespace {
constexpr uint64_t kPollIntervalNs = 100 * 1000;

WaitQueue g_io_waiters;
pollfd* g_all_fds;
size_t g_all_capacity;
uint64_t g_last_poll_ns;

bool gather(size_t* total) {
  size_t n = 0;
  for (Thread* t = g_io_waiters.head; t != nullptr; t = t->next) n += t->io_count;
  if (n > g_all_capacity) {
    size_t capacity = g_all_capacity == 0 ? 64 : g_all_capacity;
    while (capacity < n) capacity *= 2;
    if (g_all_fds != nullptr) internal_free(g_all_fds, g_all_capacity * sizeof(pollfd));
    g_all_fds = static_cast<pollfd*>(internal_alloc_zeroed(capacity * sizeof(pollfd)));
    g_all_capacity = capacity;
  }
  size_t i = 0;
  for (Thread* t = g_io_waiters.head; t != nullptr; t = t->next) {
    for (size_t k = 0; k < t->io_count; ++k) {
      g_all_fds[i].fd = t->io_fds[k].fd;
      g_all_fds[i].events = t->io_fds[k].events;
      g_all_fds[i].revents = 0;
      ++i;
    }
  }
  *total = n;
  return n != 0;
}

// Wakes every waiter one of whose fds came back ready.
void wake_ready() {
  size_t i = 0;
  Thread* t = g_io_waiters.head;
  while (t != nullptr) {
    Thread* next = t->next;
    bool ready = false;
    for (size_t k = 0; k < t->io_count; ++k, ++i) ready = ready || g_all_fds[i].revents != 0;
    if (ready) wake(t, WakeReason::kWoken);
    t = next;
  }
}
}  // namespace

bool io_waiters_exist() { return g_io_waiters.head != nullptr || futex_waiters_exist(); }

bool io_waits_may_end_from_outside() {
  return g_io_waiters.head != nullptr || futex_waiters_outside_may_wake();
}

WakeReason io_block(pollfd* fds, size_t count, uint64_t deadline_ns) {
  Thread* self = current();
  if (cancel_due_at_point(self)) return WakeReason::kInterrupted;  // see sched.h
  self->io_fds = fds;
  self->io_count = count;
  WakeReason reason = block(&g_io_waiters, WaitKind::kIo, fds, deadline_ns);
  self->io_fds = nullptr;
  self->io_count = 0;
  return reason;
}

void io_poll(int64_t timeout_ns, const uint64_t* sleeping_mask) {
  auto mask = reinterpret_cast<long>(sleeping_mask);
  long mask_size = sleeping_mask != nullptr ? sizeof *sleeping_mask : 0;
  futex_wake_changed();
  size_t total;
  bool fds = gather(&total);
  if (!fds && timeout_ns != 0 && futex_waiters_exist() &&
      futex_idle_wait(timeout_ns, sleeping_mask)) {
    g_last_poll_ns = real_monotonic_now_ns();
    futex_wake_changed();
    return;
  }
  if (futex_waiters_exist() && timeout_ns != 0) {
    // With fds to poll as well, nothing tells us when a futex word changes:
    // look again within 1 ms.
    constexpr int64_t kFutexRecheckNs = 1000000;
    if (timeout_ns < 0 || timeout_ns > kFutexRecheckNs) timeout_ns = kFutexRecheckNs;
  }
  if (!fds) {
    if (timeout_ns > 0 && futex_waiters_exist()) {
      timespec ts = timespec_from_ns(static_cast<uint64_t>(timeout_ns));
      arch::raw_syscall(SYS_ppoll, 0, 0, reinterpret_cast<long>(&ts), mask, mask_size);
      g_last_poll_ns = real_monotonic_now_ns();
      futex_wake_changed();
    }
    return;
  }
  timespec ts = timespec_from_ns(static_cast<uint64_t>(timeout_ns));
  timespec* tsp = timeout_ns >= 0 ? &ts : nullptr;
  long ready =
      arch::raw_syscall(SYS_ppoll, reinterpret_cast<long>(g_all_fds), static_cast<long>(total),
                        reinterpret_cast<long>(tsp), mask, mask_size);
  g_last_poll_ns = real_monotonic_now_ns();
  if (ready > 0) {
    if (timeout_ns != 0 && options().seeded) schedule_note_uncontrolled(Uncontrolled::kOutsideIo);
    wake_ready();
  }
  futex_wake_changed();
}

// A seeded run looks at every decision: readiness that threads of this
// process caused is then seen at the same point of every run, and whatever
// is found ready only when the process idles came from outside.
void io_poll_if_due(uint64_t now_ns) {
  if (io_waiters_exist() && (now_ns - g_last_poll_ns >= kPollIntervalNs || options().seeded)) {
    io_poll(0);
  }
}

}  // namespace ptshim
