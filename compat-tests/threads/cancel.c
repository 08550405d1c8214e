/* Deferred cancellation and pthread_exit in C: cleanup handlers run in
 * reverse order, a canceled condvar waiter owns the mutex in its handler,
 * requests wake threads blocked in sleeps, joins and semaphore waits, a
 * disabled state holds a request back until re-enabled, and key destructors
 * still run. Join sees PTHREAD_CANCELED. */
#include <pthread.h>
#include <semaphore.h>

#include "check.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static sem_t empty;
static pthread_key_t key;
static int log_buf[64];
static int log_len;
static int key_destructor_calls;

static void note(void* value) { log_buf[log_len++] = (int)(long)value; }
static void unlock_mutex(void* m) {
  CHECK_RC(pthread_mutex_unlock(m), 0); /* the canceled waiter owns it again */
  note((void*)100);
}
static void count_key(void* value) {
  (void)value;
  key_destructor_calls++;
}

static void* cond_waiter(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_setspecific(key, (void*)1), 0);
  pthread_cleanup_push(note, (void*)1);
  pthread_cleanup_push(note, (void*)2);
  CHECK_RC(pthread_mutex_lock(&lock), 0);
  pthread_cleanup_push(unlock_mutex, &lock);
  for (;;) pthread_cond_wait(&never, &lock);
  pthread_cleanup_pop(0);
  pthread_cleanup_pop(0);
  pthread_cleanup_pop(0);
  return NULL;
}

static void* sleeper(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_cleanup_push(note, (void*)3);
  sleep(100);
  pthread_cleanup_pop(0);
  return NULL;
}

static void* sem_waiter(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_cleanup_push(note, (void*)4);
  sem_wait(&empty);
  pthread_cleanup_pop(0);
  return NULL;
}

static void* joiner(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_cleanup_push(note, (void*)5);
  pthread_join(*(pthread_t*)arg, NULL);
  pthread_cleanup_pop(0);
  return NULL;
}

static void* held_back(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  int old;
  CHECK_RC(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old), 0);
  CHECK(old == PTHREAD_CANCEL_ENABLE);
  usleep(20 * 1000); /* canceled meanwhile: a cancellation point, but disabled */
  note((void*)6);
  pthread_cleanup_push(note, (void*)7);
  CHECK_RC(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL), 0);
  pthread_testcancel();
  CHECK_MSG(0, "pthread_testcancel returned with a request pending");
  pthread_cleanup_pop(0);
  return NULL;
}

static void* exits_early(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_cleanup_push(note, (void*)8);
  pthread_cleanup_push(note, (void*)9);
  pthread_exit((void*)42);
  pthread_cleanup_pop(0);
  pthread_cleanup_pop(0);
  return NULL;
}

static void* popped(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_cleanup_push(note, (void*)10);
  pthread_cleanup_pop(1); /* executes it */
  pthread_cleanup_push(note, (void*)11);
  pthread_cleanup_pop(0); /* does not */
  return (void*)43;
}

static int position(int value) {
  for (int i = 0; i < log_len; i++) {
    if (log_buf[i] == value) return i;
  }
  return -1;
}

static void expect_canceled(pthread_t t) {
  void* result;
  CHECK_RC(pthread_join(t, &result), 0);
  CHECK_MSG(result == PTHREAD_CANCELED, "join returned %p, want PTHREAD_CANCELED", result);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_key_create(&key, count_key), 0);
  CHECK(sem_init(&empty, 0, 0) == 0);
  pthread_t cw, sl, sw, hb, ee, pp, target, jn;
  CHECK_RC(pthread_create(&cw, NULL, cond_waiter, NULL), 0);
  CHECK_RC(pthread_create(&sl, NULL, sleeper, NULL), 0);
  CHECK_RC(pthread_create(&sw, NULL, sem_waiter, NULL), 0);
  CHECK_RC(pthread_create(&target, NULL, sleeper, NULL), 0);
  CHECK_RC(pthread_create(&jn, NULL, joiner, &target), 0);
  CHECK_RC(pthread_create(&hb, NULL, held_back, NULL), 0);
  usleep(5 * 1000); /* everyone is blocked at its cancellation point */
  pthread_t all[] = {cw, sl, sw, jn, hb};
  for (int i = 0; i < 5; i++) CHECK_RC(pthread_cancel(all[i]), 0);
  for (int i = 0; i < 5; i++) expect_canceled(all[i]);
  CHECK_RC(pthread_cancel(target), 0);
  expect_canceled(target);

  CHECK_MSG(position(100) >= 0 && position(100) < position(2) && position(2) < position(1),
            "cond waiter's handlers ran out of order");
  for (int v = 3; v <= 5; v++) CHECK_MSG(position(v) >= 0, "handler %d did not run", v);
  CHECK_MSG(position(6) >= 0 && position(6) < position(7), "disabled cancellation not held back");
  CHECK_MSG(key_destructor_calls == 1, "key destructor ran %d times", key_destructor_calls);
  CHECK_RC(pthread_mutex_trylock(&lock), 0);
  CHECK_RC(pthread_mutex_unlock(&lock), 0);

  void* result;
  CHECK_RC(pthread_create(&ee, NULL, exits_early, NULL), 0);
  CHECK_RC(pthread_join(ee, &result), 0);
  CHECK(result == (void*)42);
  CHECK_MSG(position(9) >= 0 && position(9) < position(8), "pthread_exit handlers out of order");
  CHECK_RC(pthread_create(&pp, NULL, popped, NULL), 0);
  CHECK_RC(pthread_join(pp, &result), 0);
  CHECK(result == (void*)43 && position(10) >= 0 && position(11) < 0);

  int old;
  CHECK_RC(pthread_setcancelstate(12345, &old), EINVAL);
  CHECK_RC(pthread_setcanceltype(12345, &old), EINVAL);
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "cancel: 6 threads canceled at their cancellation points; cleanup handlers, key "
      "destructors, disabled state and pthread_exit as glibc\n");
  return 0;
}
