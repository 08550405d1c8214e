/* Eight threads go through every primitive that can make a thread wait or
 * wake another (once, mutex, spinlock, rwlock, semaphore, condvar, sleep, a
 * pipe read, barrier, join) and log each step as they do it; main prints the
 * log. The log is the order the threads took: the determinism test
 * (check-determinism.sh) wants the same log from every run with one seed
 * and different logs from different seeds.
 * Threads 2k and 2k+1 are partners: the odd one sets a flag the even one
 * waits for on the condvar, and writes the byte the even one reads from
 * their pipe. Threads 4..7 join threads 0..3; main joins 4..7. */
#include <pthread.h>
#include <semaphore.h>

#include "check.h"

enum { kThreads = 8, kPairs = kThreads / 2, kLogBytes = 8192 };

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[kLogBytes];
static int log_len, steps;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_spinlock_t spin;
static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static sem_t slots;
static pthread_mutex_t flag_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flag_set = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t all_here;
static int flags[kPairs], pipes[kPairs][2];
static int counter, spun, table, inits;
static pthread_t threads[kThreads];

__attribute__((format(printf, 2, 3))) static void note(int id, const char* fmt, ...) {
  CHECK_RC(pthread_mutex_lock(&log_lock), 0);
  int len = snprintf(log_text + log_len, sizeof log_text - (size_t)log_len, "%d ", id);
  va_list ap;
  va_start(ap, fmt);
  len += vsnprintf(log_text + log_len + len, sizeof log_text - (size_t)(log_len + len), fmt, ap);
  va_end(ap);
  CHECK(log_len + len + 1 < (int)sizeof log_text);
  log_len += len;
  log_text[log_len++] = '\n';
  steps++;
  CHECK_RC(pthread_mutex_unlock(&log_lock), 0);
}

static void init_once(void) { inits++; }

static void* body(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int id = (int)(long)arg, pair = id / 2, odd = id % 2;

  CHECK_RC(pthread_once(&once, init_once), 0);
  note(id, "once");

  CHECK_RC(pthread_mutex_lock(&counter_lock), 0);
  int mine = ++counter;
  CHECK_RC(pthread_mutex_unlock(&counter_lock), 0);
  note(id, "mutex %d", mine);

  CHECK_RC(pthread_spin_lock(&spin), 0);
  mine = ++spun;
  CHECK_RC(pthread_spin_unlock(&spin), 0);
  note(id, "spin %d", mine);

  if (odd) {
    CHECK_RC(pthread_rwlock_wrlock(&table_lock), 0);
    mine = ++table;
  } else {
    CHECK_RC(pthread_rwlock_rdlock(&table_lock), 0);
    mine = table;
  }
  CHECK_RC(pthread_rwlock_unlock(&table_lock), 0);
  note(id, "%s %d", odd ? "wrlock" : "rdlock", mine);

  CHECK(sem_wait(&slots) == 0);
  note(id, "sem");
  CHECK(sem_post(&slots) == 0);

  CHECK_RC(pthread_mutex_lock(&flag_lock), 0);
  if (odd) {
    flags[pair] = 1;
    CHECK_RC(pthread_cond_broadcast(&flag_set), 0);
  } else {
    while (!flags[pair]) CHECK_RC(pthread_cond_wait(&flag_set, &flag_lock), 0);
  }
  CHECK_RC(pthread_mutex_unlock(&flag_lock), 0);
  note(id, "%s", odd ? "signalled" : "woke");

  struct timespec nap = {0, (id % 4) * 100 * 1000L};
  CHECK(nanosleep(&nap, NULL) == 0);
  note(id, "slept");

  char byte = (char)('a' + pair);
  if (odd) {
    CHECK(write(pipes[pair][1], &byte, 1) == 1);
    note(id, "wrote");
  } else {
    char got = 0;
    CHECK(read(pipes[pair][0], &got, 1) == 1);
    CHECK(got == byte);
    note(id, "read");
  }

  int rc = pthread_barrier_wait(&all_here);
  CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
  note(id, "barrier");

  if (id >= kThreads / 2) {
    CHECK_RC(pthread_join(threads[id - kThreads / 2], NULL), 0);
    note(id, "joined %d", id - kThreads / 2);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE), 0);
  CHECK(sem_init(&slots, 0, 2) == 0);
  CHECK_RC(pthread_barrier_init(&all_here, NULL, kThreads), 0);
  for (int p = 0; p < kPairs; p++) CHECK(pipe(pipes[p]) == 0);
  for (long i = 0; i < kThreads; i++)
    CHECK_RC(pthread_create(&threads[i], NULL, body, (void*)i), 0);
  for (int i = kThreads / 2; i < kThreads; i++) CHECK_RC(pthread_join(threads[i], NULL), 0);
  CHECK(inits == 1);
  CHECK(counter == kThreads && spun == kThreads && table == kPairs);
  CHECK_MSG(steps == kThreads * 9 + kThreads / 2, "%d steps logged", steps);
  CHECK_ONE_KERNEL_THREAD();
  fwrite(log_text, 1, (size_t)log_len, stdout);
  printf("determinism: %d threads, %d steps\n", kThreads, steps);
  return 0;
}
