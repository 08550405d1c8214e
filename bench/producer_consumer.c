/* producer_consumer: one producer and one consumer pass N items through a
 * bounded ring of 8 slots guarded by one mutex and two condition variables
 * (not_empty, not_full). The consumer checks it sees 1..N in order.
 * ns_per_op = elapsed / N, the time to pass one item. */
#include <pthread.h>

#include "bench_common.h"

#define SLOTS 8

static long iterations;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static long ring[SLOTS];
static unsigned head, count; /* next slot to take; items in the ring */
static long received;        /* items the consumer took */
static unsigned long long sum;
static long out_of_order; /* items that were not the one expected */

static void* producer(void* arg) {
  (void)arg;
  for (long item = 1; item <= iterations; item++) {
    pthread_mutex_lock(&lock);
    while (count == SLOTS) pthread_cond_wait(&not_full, &lock);
    ring[(head + count) % SLOTS] = item;
    count++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

static void* consumer(void* arg) {
  (void)arg;
  for (long expected = 1; expected <= iterations; expected++) {
    pthread_mutex_lock(&lock);
    while (count == 0) pthread_cond_wait(&not_empty, &lock);
    long item = ring[head];
    head = (head + 1) % SLOTS;
    count--;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&lock);
    if (item != expected) out_of_order++;
    sum += (unsigned long long)item;
    received++;
  }
  return NULL;
}

int main(int argc, char** argv) {
  iterations = bench_iterations(argc, argv, 60000);
  pthread_t p, c;
  double t0 = bench_now_ns();
  bench_check(pthread_create(&c, NULL, consumer, NULL), "pthread_create");
  bench_check(pthread_create(&p, NULL, producer, NULL), "pthread_create");
  bench_check(pthread_join(p, NULL), "pthread_join");
  bench_check(pthread_join(c, NULL), "pthread_join");
  double t1 = bench_now_ns();
  unsigned long long n = (unsigned long long)iterations;
  if (received != iterations || out_of_order != 0 || count != 0 || sum != n * (n + 1) / 2) {
    fprintf(stderr,
            "bench: producer_consumer: received %ld of %ld items, %ld out of order, "
            "sum %llu (expected %llu), %u left in the ring\n",
            received, iterations, out_of_order, sum, n * (n + 1) / 2, count);
    return 1;
  }
  bench_report("producer_consumer", t1 - t0, iterations);
  return 0;
}
