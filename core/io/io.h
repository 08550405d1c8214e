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
// Waiters whose wait something outside this process's threads may end: fd
// waiters, and futex waiters but those whose word only this process can
// change. With none of them, no sleeper and no signal to come, nothing will
// ever run again (core/sched's deadlock report).
bool io_waits_may_end_from_outside();
// Polls every waiter's fds, waiting up to timeout_ns (-1: without limit),
// and wakes those that are ready or whose futex word changed. A wait with
// `sleeping_mask` has the kernel's signal mask set to it for the wait only
// (ppoll's), as the idle path needs (core/sched/sched.cc).
void io_poll(int64_t timeout_ns, const uint64_t* sleeping_mask = nullptr);
void io_poll_if_due(uint64_t now_ns);  // a zero-timeout poll, rate-limited
// Parks the current thread until *word != value (the tick's parking).
void futex_block(const uint32_t* word, uint32_t value);
// Waits while *word == value, until a futex_wake whose bitset meets
// `bitset`, a change of the word, or the deadline (0: none).
// `only_this_process`: no other process (nor the kernel) can change the word.
WakeReason futex_wait(const uint32_t* word, uint32_t value, uint32_t bitset, uint64_t deadline_ns,
                      bool only_this_process = false);
// The same, shown in reports as a wait of `kind` on the object at `word`
// (a process-shared object whose futex word is its first, core/sync).
WakeReason futex_wait_as(WaitKind kind, const uint32_t* word, uint32_t value, uint32_t bitset,
                         uint64_t deadline_ns, bool only_this_process = false);
int futex_wake(const uint32_t* word, int count, uint32_t bitset);  // how many were woken
// The parked waiters of `word` that wait for it to change from `from` wait
// for a change from `to` instead: the caller changed it so and has woken
// whom that change was for (a condvar's signal).
void futex_rebase(const uint32_t* word, uint32_t from, uint32_t to);
// Wakes `count` waiters of `word` and moves up to `requeue_count` more to
// `word2`; returns both numbers added.
int futex_requeue(const uint32_t* word, int count, const uint32_t* word2, int requeue_count);
// The futex(2) system call as the program makes it through libc's syscall(),
// done for the user threads of this process: waits park the caller, wakes
// wake parked threads, keyed by address (futex_call.cc). Returns what the
// kernel would: a count, or -errno.
long futex_call(uint32_t* word, int op, uint32_t value, const timespec* timeout, uint32_t* word2,
                uint32_t value3);
void futex_wake_changed();  // wakes the parked threads whose word changed
bool futex_waiters_exist();
bool futex_waiters_outside_may_wake();  // any whose word is not only this process's
// The idle path with futex waiters only: sleeps in futex_waitv(2) on their
// words and g_deferred, with the kernel's mask set to `sleeping_mask`, for
// at most timeout_ns (-1: none; capped). False if it could not.
bool futex_idle_wait(int64_t timeout_ns, const uint64_t* sleeping_mask);
// The SIGALRM handler found the running thread blocked in the kernel, in a
// read/write-like call on an fd or a FUTEX_WAIT that ptshim does not
// interpose (libc's own read under fgets, its internal futex waits): parks it
// on that fd or word, so the others run until it is ready; the kernel then
// restarts the call (an untimed one), or the call returns what the kernel's
// would have (a timed one, which the tick ended with EINTR). False if the
// call is not one of those.
bool io_park_interrupted_call(void* ucontext);

// ---- system calls made outside libc (syscall_trap.cc) -------------------------------------
// At start-up: points ptshim's own system calls at a `syscall; ret` inside
// libc and installs the SIGSYS handler. Before any thread is created.
void syscall_trap_init();
// Each tick: turns the trap on the first time a tick finds a thread in a
// futex call made outside libc, and closes the selector a let-through call
// opened.
void syscall_trap_on_tick(const void* ucontext);
void syscall_trap_after_fork_in_child();  // the kernel did not copy it to the child

}  // namespace ptshim
