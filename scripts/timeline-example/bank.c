/* The program behind README's timeline picture: four tellers move money
 * between accounts under one global lock, an auditor wakes every 2 ms to
 * sum the accounts under the same lock, and main joins them. An ordinary
 * pthread program; it knows nothing of ptshim. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>

enum { kAccounts = 64, kTellers = 4, kTransfers = 2000 };

static pthread_mutex_t accounts_lock = PTHREAD_MUTEX_INITIALIZER;
static long accounts[kAccounts];

static void busy(int n) {  // work outside the lock
  volatile unsigned x = 1;
  for (int i = 0; i < n; ++i) x = x * 1103515245u + 12345u;
}

static void* teller(void* arg) {
  unsigned seed = (unsigned)(long)arg;
  for (int i = 0; i < kTransfers; ++i) {
    seed = seed * 1103515245u + 12345u;
    int from = (int)(seed >> 8) % kAccounts, to = (int)(seed >> 16) % kAccounts;
    busy(2000);
    pthread_mutex_lock(&accounts_lock);
    accounts[from] -= 10;
    busy(1000);  // holds the lock a while: the others queue behind it
    accounts[to] += 10;
    pthread_mutex_unlock(&accounts_lock);
  }
  return NULL;
}

static volatile int done;

static void* auditor(void* arg) {
  (void)arg;
  struct timespec pause = {0, 2000000};
  while (!done) {
    nanosleep(&pause, NULL);
    pthread_mutex_lock(&accounts_lock);
    long sum = 0;
    for (int i = 0; i < kAccounts; ++i) sum += accounts[i];
    pthread_mutex_unlock(&accounts_lock);
    if (sum != 0) printf("audit: sum %ld\n", sum);
  }
  return NULL;
}

int main(void) {
  pthread_t tellers[kTellers], audit;
  pthread_create(&audit, NULL, auditor, NULL);
  pthread_setname_np(audit, "auditor");
  for (long i = 0; i < kTellers; ++i) pthread_create(&tellers[i], NULL, teller, (void*)(i + 1));
  for (int i = 0; i < kTellers; ++i) pthread_join(tellers[i], NULL);
  done = 1;
  pthread_join(audit, NULL);
  long sum = 0;
  for (int i = 0; i < kAccounts; ++i) sum += accounts[i];
  printf("%d transfers, sum %ld\n", kTellers * kTransfers, sum);
  return 0;
}
