// core/io: waiting for file descriptors and futex words without blocking the
// one kernel thread. A user thread that would block in the kernel waits here
// instead, and the scheduler polls for all the waiters at once.
//
// Invariants (docs/design.md, "I/O waits"):
// - Each waiter lends its own pollfd array (on its stack) for as long as it
//   is blocked; nobody else writes it.
// - A woken waiter makes its own call again: readiness is a hint, never a
//   promise that the call will not block.
// - While anyone waits here the slice timer keeps ticking, and every tick or
//   scheduling decision polls (rate-limited), so readiness is seen within a
//   tick even while other threads run.
#pragma once

#include "core/sched/sched.h"

struct pollfd;

namespace ptshim {

// Blocks the current thread until one of `fds` is ready, the deadline (0:
// none) passes, or a cancellation request arrives. The caller then retries.
WakeReason io_block(struct pollfd* fds, size_t count, uint64_t deadline_ns);
bool io_waiters_exist();  // fd or futex waiters
// Polls every waiter's fds, waiting up to timeout_ns (-1: without limit),
// and wakes those that are ready or whose futex word changed.
void io_poll(int64_t timeout_ns);
void io_poll_if_due(uint64_t now_ns);  // a zero-timeout poll, rate-limited
// Parks the current thread until *word != value.
void futex_block(const uint32_t* word, uint32_t value);
void futex_wake_changed();  // wakes the parked threads whose word changed
bool futex_waiters_exist();
// The SIGALRM handler found the running thread blocked in the kernel, in a
// read/write-like call on an fd or an untimed FUTEX_WAIT that ptshim does
// not interpose (libc's own read under fgets, libgomp's barriers): parks it
// on that fd or word, so the others run until it is ready; the kernel then
// restarts the call. False if the call is not one of those.
bool io_park_interrupted_call(const void* ucontext);

}  // namespace ptshim
