/* A lock-order deadlock: one thread takes the accounts lock and then the
 * journal lock, the other the journal lock and then the accounts lock, each
 * with a little work in between. When each gets its first lock before the
 * other gets its second, both wait forever (natively a hang; under a
 * scheduler that sees every thread blocked, a deadlock report). The fixed
 * twin (-DFIXED) takes both locks in the same order in both threads. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t accounts = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t journal = PTHREAD_MUTEX_INITIALIZER;
static volatile long entries, total;

static void work(int units) {
  for (int i = 0; i < units; i++) total += i;
}

static void* post_payment(void* arg) {
  (void)arg;
  pthread_mutex_lock(&accounts);
  work(20000);
  pthread_mutex_lock(&journal);
  entries++;
  pthread_mutex_unlock(&journal);
  pthread_mutex_unlock(&accounts);
  return NULL;
}

static void* close_journal(void* arg) {
  (void)arg;
#ifdef FIXED
  pthread_mutex_lock(&accounts);
  pthread_mutex_lock(&journal);
  work(20000);
#else
  pthread_mutex_lock(&journal);
  work(20000);
  pthread_mutex_lock(&accounts);
#endif
  entries++;
  pthread_mutex_unlock(&accounts);
  pthread_mutex_unlock(&journal);
  return NULL;
}

int main(void) {
  pthread_t a, b;
  if (pthread_create(&a, NULL, post_payment, NULL) != 0) return 2;
  if (pthread_create(&b, NULL, close_journal, NULL) != 0) return 2;
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  if (entries != 2) {
    fprintf(stderr, "lock_order: %ld journal entries, want 2\n", entries);
    return 1;
  }
  printf("lock_order: both entries posted\n");
  return 0;
}
