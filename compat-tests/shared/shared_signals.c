/* A handler that interrupts a wait on a process-shared object does what it
 * does for a private one (docs/design.md §8.6), with the object held or
 * left empty by another process:
 * - sem_wait: EINTR without SA_RESTART; with it, it waits on and gets the
 *   unit the other process posts later;
 * - pthread_mutex_lock: waits on, and gets the mutex when the other process
 *   unlocks it;
 * - the handler runs on the interrupted thread each time.
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>

#include "procs.h"

struct shm {
  sem_t empty, later;
  pthread_mutex_t held;
  int release; /* the child unlocks and posts when the parent says so */
};
static struct shm* s;
static __thread int handled;
static int handled_total;

static void on_usr1(int sig) {
  (void)sig;
  ++handled;
  __atomic_add_fetch(&handled_total, 1, __ATOMIC_RELAXED);
}

static void install(int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
}

static int parked;
static void* sem_eintr(void* arg) {
  (void)arg;
  note_kernel_thread();
  __atomic_store_n(&parked, 1, __ATOMIC_RELEASE);
  int rc = sem_wait(&s->empty);
  CHECK_MSG(rc == -1 && errno == EINTR, "sem_wait returned %d (%s), want EINTR", rc,
            strerror(errno));
  CHECK(handled == 1);
  note_kernel_thread();
  return NULL;
}

static void* sem_restarted(void* arg) {
  (void)arg;
  note_kernel_thread();
  __atomic_store_n(&parked, 1, __ATOMIC_RELEASE);
  CHECK_MSG(sem_wait(&s->later) == 0, "sem_wait: %s", strerror(errno));
  CHECK(handled == 1);
  note_kernel_thread();
  return NULL;
}

static void* lock_on(void* arg) {
  (void)arg;
  note_kernel_thread();
  __atomic_store_n(&parked, 1, __ATOMIC_RELEASE);
  CHECK_RC(pthread_mutex_lock(&s->held), 0);
  CHECK(handled == 1);
  CHECK_RC(pthread_mutex_unlock(&s->held), 0);
  note_kernel_thread();
  return NULL;
}

/* Starts `body`, lets it park, interrupts it once; returns it to be joined. */
static pthread_t interrupt(void* (*body)(void*)) {
  __atomic_store_n(&parked, 0, __ATOMIC_RELEASE);
  int before = __atomic_load_n(&handled_total, __ATOMIC_RELAXED);
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, body, NULL), 0);
  while (!__atomic_load_n(&parked, __ATOMIC_ACQUIRE)) usleep(1000);
  usleep(20 * 1000); /* parked in its wait by now */
  CHECK_RC(pthread_kill(t, SIGUSR1), 0);
  int64_t give_up = now_ns() + 20 * NS_PER_S;
  while (__atomic_load_n(&handled_total, __ATOMIC_RELAXED) == before) {
    CHECK_MSG(now_ns() < give_up, "the handler did not run");
    usleep(1000);
  }
  return t;
}

static void holder(void* arg) {
  (void)arg;
  CHECK_RC(pthread_mutex_lock(&s->held), 0);
  __atomic_store_n(&s->release, 1, __ATOMIC_RELEASE);
  int64_t give_up = now_ns() + 20 * NS_PER_S;
  while (__atomic_load_n(&s->release, __ATOMIC_ACQUIRE) != 2) {
    CHECK_MSG(now_ns() < give_up, "gave up waiting for the parent");
    usleep(1000);
  }
  CHECK_RC(pthread_mutex_unlock(&s->held), 0);
  CHECK(sem_post(&s->later) == 0);
}

int main(void) {
  s = shared_memory(sizeof *s);
  CHECK(sem_init(&s->empty, 1, 0) == 0);
  CHECK(sem_init(&s->later, 1, 0) == 0);
  pthread_mutexattr_t a;
  CHECK_RC(pthread_mutexattr_init(&a), 0);
  CHECK_RC(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
  CHECK_RC(pthread_mutex_init(&s->held, &a), 0);
  pid_t children[1];
  int statuses[1];
  children[0] = spawn(holder, NULL);
  while (!__atomic_load_n(&s->release, __ATOMIC_ACQUIRE)) usleep(1000);

  install(0);
  pthread_t t1 = interrupt(sem_eintr);
  CHECK_RC(pthread_join(t1, NULL), 0);

  install(SA_RESTART);
  pthread_t t2 = interrupt(sem_restarted);
  pthread_t t3 = interrupt(lock_on);
  __atomic_store_n(&s->release, 2, __ATOMIC_RELEASE); /* now the child lets go */
  CHECK_RC(pthread_join(t2, NULL), 0);
  CHECK_RC(pthread_join(t3, NULL), 0);
  statuses[0] = wait_for(children[0]);
  CHECK(handled_total == 3);

  finish(children, 1, statuses);
  printf("shared_signals: a handler interrupts shared waits as private ones\n");
  return 0;
}
