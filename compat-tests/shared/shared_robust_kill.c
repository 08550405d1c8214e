/* Processes killed (SIGKILL) at arbitrary points while their threads lock
 * and unlock robust process-shared mutexes: afterwards every mutex can be
 * locked, with EOWNERDEAD where the dead held it (also in the middle of a
 * lock or an unlock: the kernel's robust list and its pending entry), and is
 * made consistent again. Nothing hangs. (glibc's tst-robust8 does the same.)
 */
#include <pthread.h>
#include <signal.h>

#include "procs.h"

enum { kMutexes = 20, kChildren = 3, kThreads = 4, kRounds = 4 };

struct shm {
  pthread_mutex_t m[kMutexes];
  long locked[kChildren];
  long foreign_bodies; /* the children are killed: they note here instead */
};
static struct shm* s;
static int child_index;

static void* hammer(void* arg) {
  unsigned seed = (unsigned)(long)arg;
  if (syscall(SYS_gettid) != getpid()) __atomic_add_fetch(&s->foreign_bodies, 1, __ATOMIC_RELAXED);
  for (;;) {
    int k = (int)(rand_r(&seed) % kMutexes);
    int rc = pthread_mutex_lock(&s->m[k]);
    CHECK_MSG(rc == 0 || rc == EOWNERDEAD, "lock: %d", rc);
    if (rc == EOWNERDEAD) CHECK_RC(pthread_mutex_consistent(&s->m[k]), 0);
    __atomic_add_fetch(&s->locked[child_index], 1, __ATOMIC_RELAXED);
    if (rand_r(&seed) % 4 == 0) sched_yield();
    CHECK_RC(pthread_mutex_unlock(&s->m[k]), 0);
  }
  return NULL;
}

static void child(void* arg) {
  child_index = (int)(long)arg;
  pthread_t t[kThreads];
  for (int i = 0; i < kThreads; ++i)
    CHECK_RC(pthread_create(&t[i], NULL, hammer, (void*)(long)(child_index * kThreads + i + 1)), 0);
  for (int i = 0; i < kThreads; ++i) CHECK_RC(pthread_join(t[i], NULL), 0);
}

int main(void) {
  s = shared_memory(sizeof *s);
  pthread_mutexattr_t a;
  CHECK_RC(pthread_mutexattr_init(&a), 0);
  CHECK_RC(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
  CHECK_RC(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
  for (int k = 0; k < kMutexes; ++k) CHECK_RC(pthread_mutex_init(&s->m[k], &a), 0);

  int owner_died = 0;
  for (int round = 0; round < kRounds; ++round) {
    pid_t children[kChildren];
    for (int c = 0; c < kChildren; ++c) {
      s->locked[c] = 0;
      children[c] = spawn(child, (void*)(long)c);
    }
    /* Kill each once it has done some work: somewhere in a lock, an unlock
     * or a critical section. */
    for (int c = 0; c < kChildren; ++c) {
      int64_t give_up = now_ns() + 20 * NS_PER_S;
      long want = 200 + 150 * round + 50 * c;
      while (__atomic_load_n(&s->locked[c], __ATOMIC_RELAXED) < want) {
        CHECK_MSG(now_ns() < give_up, "child %d locked only %ld times", c, s->locked[c]);
        usleep(500);
      }
      CHECK(kill(children[c], SIGKILL) == 0);
    }
    for (int c = 0; c < kChildren; ++c) {
      int status = wait_for(children[c]);
      CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %#x", status);
    }
    for (int k = 0; k < kMutexes; ++k) {
      int rc = pthread_mutex_lock(&s->m[k]);
      CHECK_MSG(rc == 0 || rc == EOWNERDEAD, "mutex %d after the kill: %d", k, rc);
      if (rc == EOWNERDEAD) {
        ++owner_died;
        CHECK_RC(pthread_mutex_consistent(&s->m[k]), 0);
      }
      CHECK_RC(pthread_mutex_unlock(&s->m[k]), 0);
    }
  }
  CHECK_MSG(s->foreign_bodies == 0,
            "%ld thread bodies of the killed children ran on another kernel thread than their "
            "process's one",
            s->foreign_bodies);
  check_process_used_one_kernel_thread();
  printf(
      "shared_robust_kill: %d rounds of %d killed processes; %d mutexes came back with "
      "EOWNERDEAD, all usable\n",
      kRounds, kChildren, owner_died);
  return 0;
}
