/* Producer/consumer through a bounded buffer of 8 slots guarded by one mutex
 * and two condition variables (not_full, not_empty).
 * usage: prodcons PRODUCERS CONSUMERS
 * Every item must be consumed exactly once (per-item bitmap and sum), and the
 * items of each producer in the order it produced them (the buffer is FIFO
 * and consumers record under the buffer lock). */
#include <pthread.h>

#include "check.h"

enum { ITEMS = 100000, SLOTS = 8, MAX_SIDE = 16 };
#define STOP (-1L) /* sentinel: one per consumer, queued after all items */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static long buffer[SLOTS];
static int head, count;

static int producers, consumers;
static unsigned char seen[ITEMS]; /* times each item was consumed */
static long last_from[MAX_SIDE];  /* last item consumed per producer */
static long long consumed_sum;
static long consumed_total;
static long consumed_by[MAX_SIDE];

static void put(long item) {
  CHECK_RC(pthread_mutex_lock(&lock), 0);
  while (count == SLOTS) CHECK_RC(pthread_cond_wait(&not_full, &lock), 0);
  buffer[(head + count) % SLOTS] = item;
  count++;
  CHECK_RC(pthread_cond_signal(&not_empty), 0);
  CHECK_RC(pthread_mutex_unlock(&lock), 0);
}

/* Items are split in contiguous ranges: producer p makes [lo, hi). */
static long range_start(int p) { return (long)ITEMS * p / producers; }

static void* producer(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int p = (int)(long)arg;
  for (long item = range_start(p); item < range_start(p + 1); item++) put(item);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void* consumer(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int c = (int)(long)arg;
  for (;;) {
    CHECK_RC(pthread_mutex_lock(&lock), 0);
    while (count == 0) CHECK_RC(pthread_cond_wait(&not_empty, &lock), 0);
    long item = buffer[head];
    head = (head + 1) % SLOTS;
    count--;
    CHECK_RC(pthread_cond_signal(&not_full), 0);
    if (item != STOP) {
      CHECK_MSG(item >= 0 && item < ITEMS, "bad item %ld", item);
      CHECK_MSG(seen[item] == 0, "item %ld consumed twice", item);
      seen[item] = 1;
      int p = 0;
      while (p + 1 < producers && item >= range_start(p + 1)) p++;
      CHECK_MSG(item > last_from[p], "item %ld of producer %d after item %ld", item, p,
                last_from[p]);
      last_from[p] = item;
      consumed_sum += item;
      consumed_total++;
      consumed_by[c]++;
    }
    CHECK_RC(pthread_mutex_unlock(&lock), 0);
    if (item == STOP) break;
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_MSG(argc == 3, "usage: %s PRODUCERS CONSUMERS", argv[0]);
  producers = atoi(argv[1]);
  consumers = atoi(argv[2]);
  CHECK(producers >= 1 && producers <= MAX_SIDE && consumers >= 1 && consumers <= MAX_SIDE);
  for (int p = 0; p < MAX_SIDE; p++) last_from[p] = -1;

  pthread_t prod[MAX_SIDE], cons[MAX_SIDE];
  for (long c = 0; c < consumers; c++)
    CHECK_RC(pthread_create(&cons[c], NULL, consumer, (void*)c), 0);
  for (long p = 0; p < producers; p++)
    CHECK_RC(pthread_create(&prod[p], NULL, producer, (void*)p), 0);
  for (int p = 0; p < producers; p++) CHECK_RC(pthread_join(prod[p], NULL), 0);
  for (int c = 0; c < consumers; c++) put(STOP);
  for (int c = 0; c < consumers; c++) CHECK_RC(pthread_join(cons[c], NULL), 0);

  CHECK_MSG(consumed_total == ITEMS, "consumed %ld items, want %d", consumed_total, ITEMS);
  for (long i = 0; i < ITEMS; i++) CHECK_MSG(seen[i] == 1, "item %ld never consumed", i);
  CHECK_MSG(consumed_sum == (long long)ITEMS * (ITEMS - 1) / 2, "sum %lld", consumed_sum);
  CHECK(count == 0);
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "prodcons: %d producer(s) -> %d-slot buffer -> %d consumer(s): %d items each "
      "consumed once, in per-producer order; per consumer:",
      producers, SLOTS, consumers, ITEMS);
  for (int c = 0; c < consumers; c++) printf(" %ld", consumed_by[c]);
  printf("\n");
  return 0;
}
