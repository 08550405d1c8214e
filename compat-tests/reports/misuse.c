/* API misuse, each done twice at the same call site (a loop), with the
 * results glibc gives: unlocking a mutex not held (unlocked; an errorcheck
 * one held by another thread: EPERM), destroying a locked mutex and a
 * condvar with a waiter (EBUSY), waiting on a condvar with an errorcheck
 * mutex not held (EPERM) and with a second mutex while another thread waits
 * with the first, re-initialising a locked mutex, a held rwlock and a
 * condvar and a semaphore with waiters (their bytes are put back after, so
 * the waiters can be woken), joining a detached thread (EINVAL), and two
 * threads that exit holding a mutex. Then it prints "misuse: all done".
 * The objects are exported globals (the program is linked -rdynamic). */
#include <pthread.h>
#include <semaphore.h>

#include "check.h"

pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t other = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t relocked = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t leaked = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t checked = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
pthread_mutex_t checked2 = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
pthread_cond_t cv2 = PTHREAD_COND_INITIALIZER;
pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
sem_t sem, release_holder, release_sleeper;

static volatile int waiting, sem_waiting;
static volatile int twice = 2; /* a loop the compiler cannot unroll: one call site */

static void* holder(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&checked), 0);
  while (sem_wait(&release_holder) != 0) {
  }
  CHECK_RC(pthread_mutex_unlock(&checked), 0);
  return NULL;
}

static void* cond_waiter(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&plain), 0);
  waiting = 1;
  while (waiting == 1) CHECK_RC(pthread_cond_wait(&cv, &plain), 0);
  CHECK_RC(pthread_mutex_unlock(&plain), 0);
  return NULL;
}

static void* sem_waiter(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  sem_waiting = 1;
  while (sem_wait(&sem) != 0) {
  }
  return NULL;
}

static void* sleeper(void* arg) {
  (void)arg;
  while (sem_wait(&release_sleeper) != 0) {
  }
  return NULL;
}

static void* leaver(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&leaked), 0);
  return NULL; /* still holding it */
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK(sem_init(&sem, 0, 0) == 0);
  CHECK(sem_init(&release_holder, 0, 0) == 0);
  CHECK(sem_init(&release_sleeper, 0, 0) == 0);
  for (int i = 0; i < twice; i++) CHECK_RC(pthread_mutex_unlock(&plain), 0);

  pthread_t h;
  CHECK_RC(pthread_create(&h, NULL, holder, NULL), 0);
  usleep(5000);
  for (int i = 0; i < twice; i++) CHECK_RC(pthread_mutex_unlock(&checked), EPERM);
  CHECK(sem_post(&release_holder) == 0);
  CHECK_RC(pthread_join(h, NULL), 0);

  CHECK_RC(pthread_mutex_lock(&relocked), 0);
  for (int i = 0; i < twice; i++) CHECK_RC(pthread_mutex_destroy(&relocked), EBUSY);
  CHECK_RC(pthread_mutex_unlock(&relocked), 0);

  pthread_t w;
  CHECK_RC(pthread_create(&w, NULL, cond_waiter, NULL), 0);
  while (!waiting) usleep(1000);
  CHECK_RC(pthread_mutex_lock(&plain), 0); /* the waiter is in its wait */
  CHECK_RC(pthread_mutex_unlock(&plain), 0);
  for (int i = 0; i < twice; i++) CHECK_RC(pthread_cond_destroy(&cv), EBUSY);
  for (int i = 0; i < twice; i++) CHECK_RC(pthread_cond_wait(&cv2, &checked2), EPERM);
  CHECK_RC(pthread_mutex_lock(&other), 0);
  for (int i = 0; i < twice; i++) {
    struct timespec soon;
    clock_gettime(CLOCK_REALTIME, &soon);
    soon.tv_nsec += 5 * 1000 * 1000;
    if (soon.tv_nsec >= 1000000000) soon.tv_sec++, soon.tv_nsec -= 1000000000;
    CHECK_RC(pthread_cond_timedwait(&cv, &other, &soon), ETIMEDOUT);
  }
  CHECK_RC(pthread_mutex_unlock(&other), 0);
  for (int i = 0; i < twice; i++) {
    pthread_cond_t saved;
    memcpy(&saved, &cv, sizeof saved);
    CHECK_RC(pthread_cond_init(&cv, NULL), 0);
    memcpy(&cv, &saved, sizeof saved);
  }
  CHECK_RC(pthread_mutex_lock(&plain), 0);
  waiting = 2;
  CHECK_RC(pthread_cond_signal(&cv), 0);
  CHECK_RC(pthread_mutex_unlock(&plain), 0);
  CHECK_RC(pthread_join(w, NULL), 0);

  for (int i = 0; i < twice; i++) {
    CHECK_RC(pthread_mutex_lock(&relocked), 0);
    CHECK_RC(pthread_mutex_init(&relocked, NULL), 0);
  }
  for (int i = 0; i < twice; i++) {
    CHECK_RC(pthread_rwlock_wrlock(&rw), 0);
    CHECK_RC(pthread_rwlock_init(&rw, NULL), 0);
  }
  pthread_t s;
  CHECK_RC(pthread_create(&s, NULL, sem_waiter, NULL), 0);
  while (!sem_waiting) usleep(1000);
  usleep(2000);
  for (int i = 0; i < twice; i++) {
    sem_t saved;
    memcpy(&saved, &sem, sizeof saved);
    CHECK(sem_init(&sem, 0, 0) == 0);
    memcpy(&sem, &saved, sizeof saved);
  }
  CHECK(sem_post(&sem) == 0);
  CHECK_RC(pthread_join(s, NULL), 0);

  pthread_attr_t detached;
  CHECK_RC(pthread_attr_init(&detached), 0);
  CHECK_RC(pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED), 0);
  pthread_t d;
  CHECK_RC(pthread_create(&d, &detached, sleeper, NULL), 0);
  for (int i = 0; i < twice; i++) CHECK_RC(pthread_join(d, NULL), EINVAL);
  CHECK(sem_post(&release_sleeper) == 0);

  for (int i = 0; i < twice; i++) {
    pthread_t l;
    CHECK_RC(pthread_create(&l, NULL, leaver, NULL), 0);
    CHECK_RC(pthread_join(l, NULL), 0);
    pthread_mutex_unlock(&leaked); /* its owner is gone: glibc lets anyone */
  }
  printf("misuse: all done\n");
  CHECK_ON_MAIN_KERNEL_THREAD();
  return 0;
}
