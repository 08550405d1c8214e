// futex(2) for the user threads of one process, as libc's syscall() reaches
// it (Rust's std, libstdc++'s atomic waits, any library that calls
// syscall(SYS_futex, ...)). In the kernel such a wait would put the one
// kernel thread, and so every user thread, to sleep; here it parks only the
// caller. Semantics follow futex(2):
// - FUTEX_WAIT: relative timeout; FUTEX_WAIT_BITSET: absolute timeout on
//   CLOCK_MONOTONIC, or CLOCK_REALTIME with FUTEX_CLOCK_REALTIME. EAGAIN when
//   the word does not hold the value, ETIMEDOUT, 0 when woken (possibly
//   spuriously, as futex(2) allows).
// - FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE,
//   FUTEX_WAKE_OP: the number of threads woken (and requeued).
// - A shared futex (no FUTEX_PRIVATE_FLAG) may have waiters in other
//   processes: its wakes are also made in the kernel, and its waiters here
//   are woken by a change of the word as well.
// - The priority-inheritance operations, and any wait while the caller is
//   the only thread, go to the kernel as they are.
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "core/io/io.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
long kernel_futex(uint32_t* word, int op, uint32_t value, const timespec* timeout, uint32_t* word2,
                  uint32_t value3) {
  return arch::raw_syscall(SYS_futex, reinterpret_cast<long>(word), op, value,
                           reinterpret_cast<long>(timeout), reinterpret_cast<long>(word2), value3);
}

long wait(uint32_t* word, int op, uint32_t value, const timespec* timeout, uint32_t bitset,
          bool absolute) {
  if (bitset == 0) return -EINVAL;
  uint64_t deadline = 0;
  if (timeout != nullptr) {
    int bad = absolute ? deadline_from_abstime(
                             (op & FUTEX_CLOCK_REALTIME) != 0 ? CLOCK_REALTIME : CLOCK_MONOTONIC,
                             timeout, &deadline)
                       : deadline_from_relative(timeout, &deadline);
    if (bad != 0) return -bad;
  }
  if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != value) return -EAGAIN;
  switch (futex_wait(word, value, bitset, deadline)) {
    case WakeReason::kWoken:
      return 0;
    case WakeReason::kTimedOut:
      return -ETIMEDOUT;
    case WakeReason::kInterrupted:
    case WakeReason::kSignaled:  // a handler ran: EINTR, as from the kernel's wait
      break;
  }
  return -EINTR;
}

// How many a wake may wake. As the kernel's wake loop (it counts after
// waking), 0 and negative counts wake one.
int wake_count(uint32_t value) {
  auto n = static_cast<int>(value);
  return n > 0 ? n : 1;
}

// FUTEX_WAKE_OP's operation on *word2, then its comparison of the old value
// (futex(2)): 1 or 0, or -ENOSYS for an unknown operation or comparison (as
// the kernel, an unknown comparison after the operation is done).
int wake_op_apply(uint32_t* word2, uint32_t encoded) {
  int op = static_cast<int>((encoded >> 28) & 0xf);
  int cmp = static_cast<int>((encoded >> 24) & 0xf);
  auto sign_extend_12 = [](uint32_t v) { return static_cast<int32_t>(v << 20) >> 20; };
  int32_t oparg = sign_extend_12((encoded >> 12) & 0xfff);
  int32_t cmparg = sign_extend_12(encoded & 0xfff);
  if ((op & FUTEX_OP_OPARG_SHIFT) != 0) {
    oparg = static_cast<int32_t>(uint32_t{1} << (oparg & 31));
    op &= ~FUTEX_OP_OPARG_SHIFT;
  }
  auto old = static_cast<int32_t>(__atomic_load_n(word2, __ATOMIC_ACQUIRE));
  int32_t updated = old;
  switch (op) {
    case FUTEX_OP_SET:
      updated = oparg;
      break;
    case FUTEX_OP_ADD:
      updated = static_cast<int32_t>(static_cast<uint32_t>(old) + static_cast<uint32_t>(oparg));
      break;
    case FUTEX_OP_OR:
      updated = old | oparg;
      break;
    case FUTEX_OP_ANDN:
      updated = old & ~oparg;
      break;
    case FUTEX_OP_XOR:
      updated = old ^ oparg;
      break;
    default:
      return -ENOSYS;
  }
  // Atomic for the other kernel threads and processes that may share it.
  __atomic_store_n(word2, static_cast<uint32_t>(updated), __ATOMIC_RELEASE);
  switch (cmp) {
    case FUTEX_OP_CMP_EQ:
      return old == cmparg;
    case FUTEX_OP_CMP_NE:
      return old != cmparg;
    case FUTEX_OP_CMP_LT:
      return old < cmparg;
    case FUTEX_OP_CMP_LE:
      return old <= cmparg;
    case FUTEX_OP_CMP_GT:
      return old > cmparg;
    case FUTEX_OP_CMP_GE:
      return old >= cmparg;
    default:
      return -ENOSYS;
  }
}
}  // namespace

long futex_call(uint32_t* word, int op, uint32_t value, const timespec* timeout, uint32_t* word2,
                uint32_t value3) {
  int cmd = op & FUTEX_CMD_MASK;
  bool shared = (op & FUTEX_PRIVATE_FLAG) == 0;
  // timeout doubles as a count for the requeue and wake-op commands.
  auto count2 = static_cast<int>(reinterpret_cast<uintptr_t>(timeout));
  if (reinterpret_cast<uintptr_t>(word) % alignof(uint32_t) != 0) return -EINVAL;
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      // (A timeout on virtual time is the scheduler's to keep.)
      if ((timeout == nullptr || !g_virtual_clock.on) && lone_thread_may_block()) {
        return kernel_futex(word, op, value, timeout, word2, value3);
      }
      bool bitset = cmd == FUTEX_WAIT_BITSET;
      return wait(word, op, value, timeout, bitset ? value3 : FUTEX_BITSET_MATCH_ANY, bitset);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      uint32_t bitset = cmd == FUTEX_WAKE_BITSET ? value3 : FUTEX_BITSET_MATCH_ANY;
      if (bitset == 0) return -EINVAL;
      long woken = futex_wake(word, wake_count(value), bitset);
      if (shared && woken < wake_count(value)) {
        long more = kernel_futex(word, op, static_cast<uint32_t>(wake_count(value) - woken),
                                 nullptr, nullptr, value3);
        if (more > 0) woken += more;
      }
      return woken;
    }
    case FUTEX_CMP_REQUEUE:
      if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != value3) return -EAGAIN;
      [[fallthrough]];
    case FUTEX_REQUEUE:
      if (static_cast<int>(value) < 0 || count2 < 0) return -EINVAL;
      return futex_requeue(word, static_cast<int>(value), word2, count2);
    case FUTEX_WAKE_OP: {
      if (reinterpret_cast<uintptr_t>(word2) % alignof(uint32_t) != 0) return -EINVAL;
      int second = wake_op_apply(word2, value3);
      if (second < 0) return second;
      long woken = futex_wake(word, wake_count(value), FUTEX_BITSET_MATCH_ANY);
      if (second != 0) {
        woken +=
            futex_wake(word2, wake_count(static_cast<uint32_t>(count2)), FUTEX_BITSET_MATCH_ANY);
      }
      return woken;
    }
    default:
      // FUTEX_LOCK_PI and the rest: the kernel's, as they are.
      return kernel_futex(word, op, value, timeout, word2, value3);
  }
}

}  // namespace ptshim
