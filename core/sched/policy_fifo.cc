// Round robin: one FIFO run queue. A woken or new thread goes to the back, a
// wake takes the longest waiter, and a switch happens only when a slice ends
// or the thread yields or blocks.
#include "core/sched/sched.h"

namespace ptshim {

namespace {
WaitQueue g_run_queue;

void fifo_make_runnable(Thread* t) { wait_queue_push(&g_run_queue, t); }

Thread* fifo_take_next() {
  Thread* t = g_run_queue.head;
  if (t != nullptr) wait_queue_remove(&g_run_queue, t);
  return t;
}

bool fifo_any_runnable() { return g_run_queue.head != nullptr; }

Thread* fifo_choose_waiter(const WaitQueue* q) { return q->head; }

bool fifo_switch_at(SchedPoint point) { return point == SchedPoint::kTick; }

void fifo_after_fork_in_child() { g_run_queue = WaitQueue{}; }
}  // namespace

const SchedPolicy kFifoPolicy = {
    "fifo",         fifo_make_runnable,       fifo_take_next, fifo_any_runnable, fifo_choose_waiter,
    fifo_switch_at, fifo_after_fork_in_child, false,
};

}  // namespace ptshim
