/* A bug behind a timed wait: the refresher waits out its refresh interval
 * (50 ms) in pthread_cond_timedwait, then swaps in a fresh cache entry and
 * retires the old one. The reader sleeps as long, looks the current entry
 * up under the lock, but uses it after unlocking. When the refresher swaps
 * and retires in between, the reader has used a retired entry. Natively
 * every run takes the 50 ms. The fixed twin (-DFIXED) uses the entry before
 * it unlocks. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { kIntervalMs = 50, kEntryWords = 65536 };

struct entry {
  int retired;
  long words[kEntryWords];
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop = PTHREAD_COND_INITIALIZER; /* never signalled */
static struct entry entries[2];
static struct entry* current = &entries[0];
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static long lookups;

static void* refresher(void* arg) {
  (void)arg;
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += kIntervalMs * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&cache_lock);
  while (pthread_cond_timedwait(&stop, &cache_lock, &deadline) != ETIMEDOUT) {
  }
  struct entry* old = current;
  current = &entries[1];
  pthread_mutex_unlock(&cache_lock);
  pthread_mutex_lock(&cache_lock);
  old->retired = 1; /* as good as freed */
  pthread_mutex_unlock(&cache_lock);
  return NULL;
}

static long checksum(const struct entry* e) {
  long sum = 0;
  for (int i = 0; i < kEntryWords; i++) sum += e->words[i] * (i + 1);
  return sum;
}

static void* reader(void* arg) {
  (void)arg;
  struct timespec interval = {0, kIntervalMs * 1000000L};
  nanosleep(&interval, NULL);
  pthread_mutex_lock(&cache_lock);
  const struct entry* e = current;
#ifndef FIXED
  pthread_mutex_unlock(&cache_lock);
#endif
  long sum = checksum(e);
  pthread_mutex_lock(&stats_lock);
  lookups++;
  pthread_mutex_unlock(&stats_lock);
  if (e->retired) {
    fprintf(stderr, "refresh_sleep: the reader used a retired cache entry (checksum %ld)\n", sum);
    exit(1);
  }
#ifdef FIXED
  pthread_mutex_unlock(&cache_lock);
#endif
  return NULL;
}

int main(void) {
  for (int i = 0; i < 2; i++)
    for (int w = 0; w < kEntryWords; w++) entries[i].words[w] = w ^ i;
  pthread_t r, u;
  if (pthread_create(&r, NULL, refresher, NULL) != 0) return 2;
  if (pthread_create(&u, NULL, reader, NULL) != 0) return 2;
  pthread_join(r, NULL);
  pthread_join(u, NULL);
  printf("refresh_sleep: %ld lookup, no retired entry used\n", lookups);
  return 0;
}
