/* Semaphores and memory shared between processes:
 * - sem_init(pshared = 1) in MAP_SHARED memory: 3 posters in one process,
 *   3 waiters in the other, every unit taken once; trywait EAGAIN and a
 *   timed wait ETIMEDOUT when empty; a waiter parked on it while its
 *   sibling runs on, until the other process posts;
 * - named semaphores (sem_open), opened again by name in the child: units,
 *   then a ping-pong with it, then one with a process exec'd without ptshim
 *   (glibc's own semaphores: the layout is glibc's);
 * - shm_open memory mapped by each process on its own (maybe at another
 *   address), holding a process-shared mutex and a counter.
 */
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>

#include "procs.h"

enum { kThreads = 3, kUnits = 2000, kCounted = 1000, kRounds = 300 };

struct shm {
  sem_t items, parked_gate;
  int waiter_parked, waiter_done;
  long sibling_ran;
};
struct counted {
  pthread_mutex_t m;
  long counter;
};
static struct shm* s;
static char sem_name[64], back_name[64], shm_name[64];

static sem_t* open_named(const char* name) {
  sem_t* sem = sem_open(name, 0);
  CHECK_MSG(sem != SEM_FAILED, "sem_open %s: %s", name, strerror(errno));
  return sem;
}

/* The other side of a ping-pong: takes a unit of `ping`, gives one back. */
static void pong(const char* ping_name, const char* pong_name) {
  sem_t* ping = open_named(ping_name);
  sem_t* back = open_named(pong_name);
  for (int i = 0; i < kRounds; ++i) {
    CHECK_MSG(sem_wait(ping) == 0, "sem_wait: %s", strerror(errno));
    CHECK(sem_post(back) == 0);
  }
  CHECK(sem_close(ping) == 0 && sem_close(back) == 0);
}

static void ping(sem_t* named, sem_t* back) {
  for (int i = 0; i < kRounds; ++i) {
    CHECK(sem_post(named) == 0);
    CHECK_MSG(sem_wait(back) == 0, "sem_wait: %s", strerror(errno));
  }
}

static void* post_units(void* arg) {
  (void)arg;
  note_kernel_thread();
  for (int i = 0; i < kUnits; ++i) {
    CHECK_MSG(sem_post(&s->items) == 0, "sem_post: %s", strerror(errno));
    if (i % 16 == 0) sched_yield();
  }
  note_kernel_thread();
  return NULL;
}

static void* take_units(void* arg) {
  (void)arg;
  note_kernel_thread();
  for (int i = 0; i < kUnits; ++i)
    CHECK_MSG(sem_wait(&s->items) == 0, "sem_wait: %s", strerror(errno));
  note_kernel_thread();
  return NULL;
}

static void* gate_waiter(void* arg) {
  (void)arg;
  note_kernel_thread();
  __atomic_store_n(&s->waiter_parked, 1, __ATOMIC_RELEASE);
  CHECK_MSG(sem_wait(&s->parked_gate) == 0, "sem_wait: %s", strerror(errno));
  __atomic_store_n(&s->waiter_done, 1, __ATOMIC_RELEASE);
  note_kernel_thread();
  return NULL;
}

static void* gate_sibling(void* arg) {
  (void)arg;
  note_kernel_thread();
  while (!__atomic_load_n(&s->waiter_done, __ATOMIC_ACQUIRE)) {
    __atomic_add_fetch(&s->sibling_ran, 1, __ATOMIC_RELAXED);
    sched_yield();
  }
  note_kernel_thread();
  return NULL;
}

static struct counted* map_counted(void) {
  int fd = shm_open(shm_name, O_RDWR, 0);
  CHECK_MSG(fd >= 0, "shm_open %s: %s", shm_name, strerror(errno));
  void* p = mmap(NULL, sizeof(struct counted), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK_MSG(p != MAP_FAILED, "mmap: %s", strerror(errno));
  close(fd);
  return p;
}

static struct counted* counted;
static void* count(void* arg) {
  (void)arg;
  note_kernel_thread();
  for (int i = 0; i < kCounted; ++i) {
    CHECK_RC(pthread_mutex_lock(&counted->m), 0);
    long v = counted->counter;
    if (i % 8 == 0) sched_yield();
    counted->counter = v + 1;
    CHECK_RC(pthread_mutex_unlock(&counted->m), 0);
  }
  note_kernel_thread();
  return NULL;
}

static void run_threads(void* (*body)(void*)) {
  pthread_t t[kThreads];
  for (int i = 0; i < kThreads; ++i) CHECK_RC(pthread_create(&t[i], NULL, body, NULL), 0);
  for (int i = 0; i < kThreads; ++i) CHECK_RC(pthread_join(t[i], NULL), 0);
}

static void child(void* arg) {
  (void)arg;
  run_threads(take_units);

  pthread_t w, r;
  CHECK_RC(pthread_create(&w, NULL, gate_waiter, NULL), 0);
  CHECK_RC(pthread_create(&r, NULL, gate_sibling, NULL), 0);
  CHECK_RC(pthread_join(w, NULL), 0);
  CHECK_RC(pthread_join(r, NULL), 0);

  sem_t* named = open_named(sem_name);
  for (int i = 0; i < kUnits; ++i) CHECK_MSG(sem_wait(named) == 0, "sem_wait: %s", strerror(errno));
  CHECK(sem_close(named) == 0);
  pong(sem_name, back_name);

  counted = map_counted();
  run_threads(count);
}

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "--pong") == 0) { /* exec'd without ptshim */
    pong(argv[2], argv[3]);
    return 0;
  }
  snprintf(sem_name, sizeof sem_name, "/ptshim-shared-sem-%ld", (long)getpid());
  snprintf(back_name, sizeof back_name, "/ptshim-shared-back-%ld", (long)getpid());
  snprintf(shm_name, sizeof shm_name, "/ptshim-shared-shm-%ld", (long)getpid());
  s = shared_memory(sizeof *s);
  CHECK(sem_init(&s->items, 1, 0) == 0);
  CHECK(sem_init(&s->parked_gate, 1, 0) == 0);
  sem_t* named = sem_open(sem_name, O_CREAT | O_EXCL, 0600, 0);
  CHECK_MSG(named != SEM_FAILED, "sem_open %s: %s", sem_name, strerror(errno));
  sem_t* back = sem_open(back_name, O_CREAT | O_EXCL, 0600, 0);
  CHECK_MSG(back != SEM_FAILED, "sem_open %s: %s", back_name, strerror(errno));
  int fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
  CHECK_MSG(fd >= 0, "shm_open %s: %s", shm_name, strerror(errno));
  CHECK(ftruncate(fd, sizeof(struct counted)) == 0);
  close(fd);
  counted = map_counted();
  pthread_mutexattr_t a;
  CHECK_RC(pthread_mutexattr_init(&a), 0);
  CHECK_RC(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
  CHECK_RC(pthread_mutex_init(&counted->m, &a), 0);

  pid_t children[1];
  int statuses[1];
  children[0] = spawn(child, NULL);
  run_threads(post_units);

  int64_t give_up = now_ns() + 20 * NS_PER_S;
  while (!__atomic_load_n(&s->waiter_parked, __ATOMIC_ACQUIRE) ||
         __atomic_load_n(&s->sibling_ran, __ATOMIC_RELAXED) < 1000) {
    CHECK_MSG(now_ns() < give_up, "the waiter's sibling ran %ld times", s->sibling_ran);
    usleep(1000);
  }
  CHECK(!__atomic_load_n(&s->waiter_done, __ATOMIC_ACQUIRE));
  CHECK(sem_post(&s->parked_gate) == 0);

  for (int i = 0; i < kUnits; ++i) CHECK(sem_post(named) == 0);
  run_threads(count);
  ping(named, back);
  statuses[0] = wait_for(children[0]);

  /* The same with a process that runs glibc's own semaphores. */
  fflush(NULL);
  pid_t native = fork();
  CHECK_MSG(native >= 0, "fork: %s", strerror(errno));
  if (native == 0) {
    unsetenv("LD_PRELOAD");
    execl("/proc/self/exe", argv[0], "--pong", sem_name, back_name, (char*)NULL);
    _exit(99);
  }
  ping(named, back);
  int native_status = wait_for(native);
  CHECK_MSG(WIFEXITED(native_status) && WEXITSTATUS(native_status) == 0,
            "the native partner's status %#x", native_status);

  int value = -1;
  CHECK(sem_getvalue(&s->items, &value) == 0);
  CHECK_MSG(value == 0, "items left: %d", value);
  CHECK(sem_trywait(&s->items) == -1 && errno == EAGAIN);
  struct timespec soon = deadline_after(CLOCK_REALTIME, 30 * NS_PER_MS);
  CHECK(sem_timedwait(&s->items, &soon) == -1 && errno == ETIMEDOUT);
  CHECK(sem_getvalue(named, &value) == 0);
  CHECK_MSG(value == 0, "named units left: %d", value);
  CHECK_MSG(counted->counter == 2L * kThreads * kCounted, "shm_open counter %ld, want %ld",
            counted->counter, 2L * kThreads * kCounted);
  CHECK(sem_close(named) == 0 && sem_close(back) == 0);
  CHECK(sem_unlink(sem_name) == 0 && sem_unlink(back_name) == 0);
  CHECK(shm_unlink(shm_name) == 0);
  CHECK(sem_destroy(&s->items) == 0);

  finish(children, 1, statuses);
  printf(
      "shared_sem: pshared and named semaphores, shm_open memory, across processes (one "
      "without ptshim)\n");
  return 0;
}
