// Wait queues: intrusive doubly linked FIFOs through Thread::next/prev. A
// thread is on at most one queue (a wait queue or the policy's run queue).
#include "core/sched/sched.h"

namespace ptshim {

void wait_queue_push(WaitQueue* q, Thread* t) {
  t->next = nullptr;
  t->prev = q->tail;
  if (q->tail != nullptr) {
    q->tail->next = t;
  } else {
    q->head = t;
  }
  q->tail = t;
}

void wait_queue_push_front(WaitQueue* q, Thread* t) {
  t->prev = nullptr;
  t->next = q->head;
  if (q->head != nullptr) {
    q->head->prev = t;
  } else {
    q->tail = t;
  }
  q->head = t;
}

void wait_queue_remove(WaitQueue* q, Thread* t) {
  if (t->prev != nullptr) {
    t->prev->next = t->next;
  } else {
    q->head = t->next;
  }
  if (t->next != nullptr) {
    t->next->prev = t->prev;
  } else {
    q->tail = t->prev;
  }
  t->next = t->prev = nullptr;
}

}  // namespace ptshim
