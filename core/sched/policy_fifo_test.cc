// Unit tests of the FIFO policy (policy_fifo.cc): round robin within
// priority levels, with the wait queues it runs on (wait_queue.cc) and the
// policy switch (policy.cc).
#include <cstdint>
#include <initializer_list>

#include "core/sched/sched.h"
#include "core/testing/check.h"

using namespace ptshim;

// policy.cc's scheduling_point_slow yields; here a yield is only counted.
namespace ptshim {
volatile int g_reporting;
int g_yields;
bool yield() {
  ++g_yields;
  return true;
}
void yield_preempted(SchedPoint) { yield(); }
// The policy compares with the running thread's level: a thread at level 0.
Thread g_running;
Thread* current() { return &g_running; }
// Seeded slices are off (g_step_on false): never reached.
bool g_step_on;
void step_segment_switch_slow(Thread*) {}
}  // namespace ptshim

namespace {

Thread g_threads[8];  // zero-initialised, as the scheduler's slots
Thread* const A = &g_threads[0];
Thread* const B = &g_threads[1];
Thread* const C = &g_threads[2];
Thread* const D = &g_threads[3];

const SchedPolicy& fifo = kFifoPolicy;

// Taken threads are no longer runnable (the scheduler runs them at once).
void empty_run_queue() {
  while (Thread* t = fifo.take_next()) t->state = ThreadState::kFree;
}

void test_description() {
  CHECK_STREQ(fifo.name, "fifo");
  CHECK(!fifo.sees_every_point);
  CHECK_EQ(g_policy, &kFifoPolicy);  // the default
  CHECK(!g_policy_sees_every_point);
}

void test_empty() {
  empty_run_queue();
  CHECK(!fifo.any_runnable());
  CHECK_EQ(fifo.take_next(), nullptr);
  CHECK(!fifo.any_runnable());
}

void test_order() {
  empty_run_queue();
  fifo.make_runnable(A, false);
  CHECK(fifo.any_runnable());
  fifo.make_runnable(B, false);
  fifo.make_runnable(C, false);
  CHECK_EQ(fifo.take_next(), A);
  CHECK_EQ(A->next, nullptr);  // unlinked
  CHECK_EQ(A->prev, nullptr);
  CHECK(fifo.any_runnable());
  CHECK_EQ(fifo.take_next(), B);
  CHECK_EQ(fifo.take_next(), C);
  CHECK(!fifo.any_runnable());
  CHECK_EQ(fifo.take_next(), nullptr);

  // Interleaved: a thread made runnable again goes to the back.
  fifo.make_runnable(A, false);
  fifo.make_runnable(B, false);
  CHECK_EQ(fifo.take_next(), A);
  fifo.make_runnable(C, false);
  fifo.make_runnable(A, false);
  CHECK_EQ(fifo.take_next(), B);
  fifo.make_runnable(D, false);
  CHECK_EQ(fifo.take_next(), C);
  CHECK_EQ(fifo.take_next(), A);
  CHECK_EQ(fifo.take_next(), D);
  CHECK_EQ(fifo.take_next(), nullptr);

  // Stale links from an earlier queue do not matter.
  A->next = B;
  A->prev = C;
  fifo.make_runnable(A, false);
  CHECK_EQ(fifo.take_next(), A);
  CHECK_EQ(fifo.take_next(), nullptr);

  // Many threads, in and out repeatedly: always first in, first out.
  bool fifo_order = true;
  for (int round = 0; round < 3; ++round) {
    for (Thread& t : g_threads) fifo.make_runnable(&t, false);
    for (Thread& t : g_threads) fifo_order &= fifo.take_next() == &t;
  }
  CHECK(fifo_order);
  CHECK(!fifo.any_runnable());
}

void test_choose_waiter() {
  WaitQueue q{};
  wait_queue_push(&q, B);
  CHECK_EQ(fifo.choose_waiter(&q), B);
  wait_queue_push(&q, A);
  wait_queue_push(&q, C);
  CHECK_EQ(fifo.choose_waiter(&q), B);  // the longest waiter
  CHECK_EQ(q.head, B);                  // the queue is left as it was
  CHECK_EQ(q.tail, C);
  wait_queue_push_front(&q, D);
  CHECK_EQ(fifo.choose_waiter(&q), D);
  wait_queue_remove(&q, D);
  wait_queue_remove(&q, B);
  CHECK_EQ(fifo.choose_waiter(&q), A);
  wait_queue_remove(&q, A);
  CHECK_EQ(fifo.choose_waiter(&q), C);
  wait_queue_remove(&q, C);
  CHECK_EQ(q.head, nullptr);
  CHECK_EQ(q.tail, nullptr);
}

void test_switch_at() {
  // Only at the end of a slice (a yield offers the processor without asking
  // the policy: sched.h).
  CHECK(fifo.switch_at(SchedPoint::kTick));
  CHECK(!fifo.switch_at(SchedPoint::kUncontendedLock));
  CHECK(!fifo.switch_at(SchedPoint::kUncontendedUnlock));
}

void test_after_fork_in_child() {
  empty_run_queue();
  fifo.make_runnable(A, false);
  fifo.make_runnable(B, false);
  fifo.make_runnable(C, false);
  fifo.after_fork_in_child();
  CHECK(!fifo.any_runnable());
  CHECK_EQ(fifo.take_next(), nullptr);
  // Usable again, holding only what comes after.
  fifo.make_runnable(D, false);
  CHECK(fifo.any_runnable());
  CHECK_EQ(fifo.take_next(), D);
  CHECK_EQ(fifo.take_next(), nullptr);
  fifo.after_fork_in_child();  // on an empty queue
  CHECK(!fifo.any_runnable());
}

void test_wait_queue() {
  WaitQueue q{};
  wait_queue_push(&q, A);
  CHECK_EQ(q.head, A);
  CHECK_EQ(q.tail, A);
  CHECK_EQ(A->prev, nullptr);
  CHECK_EQ(A->next, nullptr);
  wait_queue_push(&q, B);
  wait_queue_push(&q, C);
  wait_queue_push_front(&q, D);  // D A B C
  CHECK_EQ(q.head, D);
  CHECK_EQ(D->next, A);
  CHECK_EQ(A->prev, D);
  CHECK_EQ(C->next, nullptr);
  CHECK_EQ(q.tail, C);
  wait_queue_remove(&q, B);  // the middle: D A C
  CHECK_EQ(A->next, C);
  CHECK_EQ(C->prev, A);
  CHECK_EQ(B->next, nullptr);
  CHECK_EQ(B->prev, nullptr);
  wait_queue_remove(&q, C);  // the tail: D A
  CHECK_EQ(q.tail, A);
  CHECK_EQ(A->next, nullptr);
  wait_queue_remove(&q, D);  // the head: A
  CHECK_EQ(q.head, A);
  CHECK_EQ(A->prev, nullptr);
  wait_queue_remove(&q, A);
  CHECK_EQ(q.head, nullptr);
  CHECK_EQ(q.tail, nullptr);
  wait_queue_push_front(&q, B);  // onto an empty queue
  CHECK_EQ(q.head, B);
  CHECK_EQ(q.tail, B);
  wait_queue_remove(&q, B);
}

// policy.cc: a scheduling point outside the scheduler yields only when the
// policy wants a switch there and another thread is runnable.
void test_scheduling_point() {
  empty_run_queue();
  g_yields = 0;
  scheduling_point_slow(SchedPoint::kTick);
  scheduling_point_slow(SchedPoint::kUncontendedLock);
  CHECK_EQ(g_yields, 0);  // nobody else to run
  fifo.make_runnable(A, false);
  scheduling_point_slow(SchedPoint::kUncontendedLock);
  scheduling_point_slow(SchedPoint::kUncontendedUnlock);
  CHECK_EQ(g_yields, 0);
  scheduling_point_slow(SchedPoint::kTick);
  CHECK_EQ(g_yields, 1);
  scheduling_point_slow(SchedPoint::kTick);
  CHECK_EQ(g_yields, 2);
  scheduling_point(SchedPoint::kTick);  // FIFO does not see every point
  CHECK_EQ(g_yields, 2);
  empty_run_queue();

  // sched_select_policy copies sees_every_point for the inline check.
  SchedPolicy every = kFifoPolicy;
  every.sees_every_point = true;
  sched_select_policy(&every);
  CHECK_EQ(g_policy, &every);
  CHECK(g_policy_sees_every_point);
  fifo.make_runnable(A, false);
  scheduling_point(SchedPoint::kUncontendedUnlock);
  CHECK_EQ(g_yields, 2);  // seen, but FIFO does not switch there
  scheduling_point(SchedPoint::kTick);
  CHECK_EQ(g_yields, 3);
  empty_run_queue();
  sched_select_policy(&kFifoPolicy);
  CHECK_EQ(g_policy, &kFifoPolicy);
  CHECK(!g_policy_sees_every_point);
}

// Sets t's level as priority.cc does, telling the policy.
bool set_level(Thread* t, int level) {
  int old = t->level;
  t->level = static_cast<uint8_t>(level);
  return fifo.level_changed(t, old);
}

void make_all_runnable(std::initializer_list<Thread*> threads) {
  for (Thread* t : threads) {
    t->state = ThreadState::kRunnable;
    fifo.make_runnable(t, false);
  }
}

// The highest level first, FIFO among equals; a thread above the running
// one's level asks to preempt it.
void test_levels() {
  empty_run_queue();
  set_level(A, 10);
  set_level(C, 30);
  set_level(D, 10);
  CHECK(fifo.make_runnable(A, false));
  CHECK(!fifo.make_runnable(B, false));  // level 0, as the running thread
  CHECK(fifo.make_runnable(C, false));
  CHECK(fifo.make_runnable(D, false));
  CHECK(fifo.any_runnable());
  CHECK_EQ(fifo.take_next(), C);
  CHECK_EQ(fifo.take_next(), A);
  CHECK_EQ(fifo.take_next(), D);
  CHECK_EQ(fifo.take_next(), B);
  CHECK(!fifo.any_runnable());

  // Ahead of its equals.
  fifo.make_runnable(A, false);
  fifo.make_runnable(D, true);
  CHECK_EQ(fifo.take_next(), D);
  CHECK_EQ(fifo.take_next(), A);
  CHECK_EQ(fifo.take_next(), nullptr);
}

// A runnable thread that is raised goes behind its new equals, one that is
// lowered ahead of them; either may outrank the running thread.
void test_level_changed() {
  empty_run_queue();
  set_level(A, 10);
  set_level(B, 10);
  set_level(C, 20);
  make_all_runnable({A, B, C});
  CHECK(set_level(B, 20));  // raised: behind C
  CHECK(set_level(C, 10));  // lowered: ahead of A
  CHECK_EQ(fifo.take_next(), B);
  CHECK_EQ(fifo.take_next(), C);
  CHECK_EQ(fifo.take_next(), A);
  for (Thread* t : {A, B, C, D}) {
    t->state = ThreadState::kBlocked;
    set_level(t, 0);
  }
  CHECK(!set_level(A, 0));
  for (Thread* t : {A, B, C, D}) t->state = ThreadState::kFree;
}

// The highest waiter, the longest one among equals.
void test_choose_waiter_by_level() {
  WaitQueue q{};
  wait_queue_push(&q, A);
  wait_queue_push(&q, B);
  wait_queue_push(&q, C);
  CHECK_EQ(fifo.choose_waiter(&q), A);
  set_level(B, 5);
  set_level(C, 5);
  CHECK_EQ(fifo.choose_waiter(&q), B);
  set_level(C, 6);
  CHECK_EQ(fifo.choose_waiter(&q), C);
  set_level(B, 0);
  set_level(C, 0);
  CHECK_EQ(fifo.choose_waiter(&q), A);
  wait_queue_remove(&q, A);
  wait_queue_remove(&q, B);
  wait_queue_remove(&q, C);
}

// A tick rotates SCHED_RR and SCHED_OTHER threads among their equals, never
// a SCHED_FIFO one, and never gives way to a lower level.
void test_switch_at_levels() {
  empty_run_queue();
  g_running.level = 10;
  g_running.sched_fifo = true;
  set_level(A, 10);
  make_all_runnable({A});
  CHECK(!fifo.switch_at(SchedPoint::kTick));
  g_running.sched_fifo = false;
  CHECK(fifo.switch_at(SchedPoint::kTick));
  empty_run_queue();
  set_level(A, 0);
  make_all_runnable({A});
  CHECK(!fifo.switch_at(SchedPoint::kTick));  // only a lower level waits
  empty_run_queue();
  set_level(A, 11);
  g_running.sched_fifo = true;
  make_all_runnable({A});
  CHECK(fifo.switch_at(SchedPoint::kTick));  // a higher one
  empty_run_queue();
  A->state = ThreadState::kFree;
  set_level(A, 0);
  g_running.level = 0;
  g_running.sched_fifo = false;
}

}  // namespace

int main() {
  test_description();
  test_empty();
  test_order();
  test_choose_waiter();
  test_switch_at();
  test_after_fork_in_child();
  test_wait_queue();
  test_scheduling_point();
  test_levels();
  test_level_changed();
  test_choose_waiter_by_level();
  test_switch_at_levels();
  return ptshim::testing::finish();
}
