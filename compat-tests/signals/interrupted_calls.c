/* A thread blocked in a call receives pthread_kill(SIGUSR1), whose handler
 * is installed without and then with SA_RESTART. The handler must run on
 * that thread at once, while the call waits, and the call then does what
 * it does on Linux:
 *   fails with EINTR (whatever SA_RESTART says): nanosleep, clock_nanosleep
 *     (relative and absolute), usleep, sem_wait, sem_timedwait,
 *     sem_clockwait, sigwaitinfo, sigtimedwait, sigsuspend, pause, poll;
 *     sleep() returns the whole seconds left; nanosleep writes the time left;
 *   waits on until what it waits for comes: pthread_mutex_lock and
 *     _timedlock, rwlock read and write locks, pthread_barrier_wait,
 *     pthread_join, pthread_once, sigwait (a pthread_kill of the signal it
 *     waits for ends it), pthread_cond_wait (which may also wake
 *     spuriously: the caller's loop waits on);
 *   read from an empty pipe: EINTR without SA_RESTART, restarted with it.
 * Each case: the target starts the call, main waits 50 ms, sends the
 * signal, waits for the handler, checks the call is still waiting (or has
 * failed with EINTR), then releases it.
 *
 * The one-kernel-thread check comes at the end (every target records its
 * kernel thread), so that natively every case runs and passes first. */
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>

#include "check.h"

enum expect { EXPECT_EINTR, EXPECT_RESUME };

struct call {
  const char* name;
  void (*prepare)(void); /* main, before the target starts */
  int (*run)(void);      /* the target: 0 on success, else an error number */
  void (*release)(void); /* main, to end a call that waits on */
  enum expect without_restart, with_restart;
};

static pthread_t target;
static atomic_int handled_on_target, handled_elsewhere;
static atomic_int entered, returned;
static atomic_long target_tid = 0;
static long foreign_tid; /* a target's kernel thread, if not the process's own */
static int result;

static void on_usr1(int sig) {
  (void)sig;
  if (pthread_equal(pthread_self(), target)) {
    atomic_fetch_add(&handled_on_target, 1);
  } else {
    atomic_fetch_add(&handled_elsewhere, 1);
  }
}

static int err_of(int rc) { return rc == -1 ? errno : 0; }

static struct timespec in_ns(int64_t ns) { return ns_to_timespec(ns); }

/* ---- the calls ---- */
static int do_nanosleep(void) {
  struct timespec req = in_ns(5 * NS_PER_S), rem = {0, 0};
  int err = err_of(nanosleep(&req, &rem));
  int64_t left = timespec_to_ns(&rem);
  if (err == EINTR && (left < 4 * NS_PER_S || left > 5 * NS_PER_S)) return 1000; /* a bad rem */
  return err;
}
static int do_clock_nanosleep(void) {
  struct timespec req = in_ns(5 * NS_PER_S), rem = {0, 0};
  int err = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem);
  if (err == EINTR && timespec_to_ns(&rem) < 4 * NS_PER_S) return 1000;
  return err;
}
static int do_clock_nanosleep_abs(void) {
  struct timespec until = deadline_after(CLOCK_REALTIME, 5 * NS_PER_S);
  return clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL);
}
static int do_sleep(void) {
  unsigned left = sleep(5);
  return left == 4 || left == 5 ? EINTR : 1000 + (int)left;
}
static int do_usleep(void) { return err_of(usleep(3 * 1000 * 1000)); }

static sem_t sem;
static void sem_prepare(void) { CHECK(sem_init(&sem, 0, 0) == 0); }
static int do_sem_wait(void) { return err_of(sem_wait(&sem)); }
static void post_sem(void) { CHECK(sem_post(&sem) == 0); }
static int do_sem_timedwait(void) {
  struct timespec until = deadline_after(CLOCK_REALTIME, 5 * NS_PER_S);
  return err_of(sem_timedwait(&sem, &until));
}
static int do_sem_clockwait(void) {
  struct timespec until = deadline_after(CLOCK_MONOTONIC, 5 * NS_PER_S);
  return err_of(sem_clockwait(&sem, CLOCK_MONOTONIC, &until));
}

static sigset_t usr2_only;
static void block_usr2(void) {
  sigemptyset(&usr2_only);
  sigaddset(&usr2_only, SIGUSR2);
  CHECK_RC(pthread_sigmask(SIG_BLOCK, &usr2_only, NULL), 0);
}
static int do_sigwaitinfo(void) {
  block_usr2();
  return err_of(sigwaitinfo(&usr2_only, NULL));
}
static int do_sigtimedwait(void) {
  block_usr2();
  struct timespec t = in_ns(5 * NS_PER_S);
  return err_of(sigtimedwait(&usr2_only, NULL, &t));
}
static int do_sigwait(void) {
  block_usr2();
  int sig = 0;
  int err = sigwait(&usr2_only, &sig);
  return err != 0 ? err : sig == SIGUSR2 ? 0 : 1000 + sig;
}
static void release_sigwait(void) { CHECK_RC(pthread_kill(target, SIGUSR2), 0); }
static int do_sigsuspend(void) {
  sigset_t none;
  sigemptyset(&none);
  return err_of(sigsuspend(&none));
}
static int do_pause(void) { return err_of(pause()); }

static int pipe_fds[2];
static void pipe_prepare(void) { CHECK(pipe(pipe_fds) == 0); }
static int do_read(void) {
  char c;
  ssize_t n = read(pipe_fds[0], &c, 1);
  int err = n < 0 ? errno : n == 1 ? 0 : 1000;
  close(pipe_fds[0]);
  return err;
}
static void release_read(void) { CHECK(write(pipe_fds[1], "x", 1) == 1); }
static int do_poll(void) {
  struct pollfd p = {pipe_fds[0], POLLIN, 0};
  int err = err_of(poll(&p, 1, 5000));
  close(pipe_fds[0]);
  return err;
}

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static void lock_mutex(void) { CHECK_RC(pthread_mutex_lock(&mutex), 0); }
static void unlock_mutex(void) { CHECK_RC(pthread_mutex_unlock(&mutex), 0); }
static int do_mutex_lock(void) {
  int err = pthread_mutex_lock(&mutex);
  if (err == 0) pthread_mutex_unlock(&mutex);
  return err;
}
static int do_mutex_timedlock(void) {
  struct timespec until = deadline_after(CLOCK_REALTIME, 5 * NS_PER_S);
  int err = pthread_mutex_timedlock(&mutex, &until);
  if (err == 0) pthread_mutex_unlock(&mutex);
  return err;
}

static pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;
static void read_lock(void) { CHECK_RC(pthread_rwlock_rdlock(&rwlock), 0); }
static void write_lock(void) { CHECK_RC(pthread_rwlock_wrlock(&rwlock), 0); }
static void rw_unlock(void) { CHECK_RC(pthread_rwlock_unlock(&rwlock), 0); }
static int do_wrlock(void) {
  int err = pthread_rwlock_wrlock(&rwlock);
  if (err == 0) pthread_rwlock_unlock(&rwlock);
  return err;
}
static int do_rdlock(void) {
  int err = pthread_rwlock_rdlock(&rwlock);
  if (err == 0) pthread_rwlock_unlock(&rwlock);
  return err;
}

static pthread_barrier_t barrier;
static void barrier_prepare(void) { CHECK_RC(pthread_barrier_init(&barrier, NULL, 2), 0); }
static int do_barrier(void) {
  int err = pthread_barrier_wait(&barrier);
  return err == PTHREAD_BARRIER_SERIAL_THREAD ? 0 : err;
}
static void release_barrier(void) {
  int err = pthread_barrier_wait(&barrier);
  CHECK(err == 0 || err == PTHREAD_BARRIER_SERIAL_THREAD);
}

static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int cond_ready;
static void cond_prepare(void) { cond_ready = 0; }
static int do_cond_wait(void) {
  pthread_mutex_lock(&cond_lock);
  int err = 0;
  while (!cond_ready && err == 0) err = pthread_cond_wait(&cond, &cond_lock);
  pthread_mutex_unlock(&cond_lock);
  return err;
}
static void release_cond(void) {
  pthread_mutex_lock(&cond_lock);
  cond_ready = 1;
  pthread_cond_signal(&cond);
  pthread_mutex_unlock(&cond_lock);
}

/* pthread_join and pthread_once wait on a helper thread that waits on a
 * semaphore main posts. */
static sem_t gate;
static pthread_t helper;
static void* gated(void* arg) {
  (void)arg;
  while (sem_wait(&gate) != 0) {
  }
  return (void*)7L;
}
static void join_prepare(void) {
  CHECK(sem_init(&gate, 0, 0) == 0);
  CHECK_RC(pthread_create(&helper, NULL, gated, NULL), 0);
}
static int do_join(void) {
  void* r = NULL;
  int err = pthread_join(helper, &r);
  return err != 0 ? err : r == (void*)7L ? 0 : 1000;
}
static void release_gate(void) { CHECK(sem_post(&gate) == 0); }

static pthread_once_t once;
static atomic_int init_running;
static void slow_init(void) {
  atomic_store(&init_running, 1);
  while (sem_wait(&gate) != 0) {
  }
}
static void* run_once(void* arg) {
  (void)arg;
  CHECK_RC(pthread_once(&once, slow_init), 0);
  return NULL;
}
static void once_prepare(void) {
  once = (pthread_once_t)PTHREAD_ONCE_INIT;
  atomic_store(&init_running, 0);
  CHECK(sem_init(&gate, 0, 0) == 0);
  CHECK_RC(pthread_create(&helper, NULL, run_once, NULL), 0);
  while (!atomic_load(&init_running)) usleep(1000);
}
static int do_once(void) { return pthread_once(&once, slow_init); }
static void once_done(void) {
  release_gate();
  CHECK_RC(pthread_join(helper, NULL), 0);
}

static const struct call calls[] = {
    {"nanosleep", NULL, do_nanosleep, NULL, EXPECT_EINTR, EXPECT_EINTR},
    {"clock_nanosleep", NULL, do_clock_nanosleep, NULL, EXPECT_EINTR, EXPECT_EINTR},
    {"clock_nanosleep(TIMER_ABSTIME)", NULL, do_clock_nanosleep_abs, NULL, EXPECT_EINTR,
     EXPECT_EINTR},
    {"sleep", NULL, do_sleep, NULL, EXPECT_EINTR, EXPECT_EINTR},
    {"usleep", NULL, do_usleep, NULL, EXPECT_EINTR, EXPECT_EINTR},
    {"sem_wait", sem_prepare, do_sem_wait, post_sem, EXPECT_EINTR, EXPECT_RESUME},
    {"sem_timedwait", sem_prepare, do_sem_timedwait, NULL, EXPECT_EINTR, EXPECT_EINTR},
    {"sem_clockwait", sem_prepare, do_sem_clockwait, NULL, EXPECT_EINTR, EXPECT_EINTR},
    {"sigwaitinfo", NULL, do_sigwaitinfo, NULL, EXPECT_EINTR, EXPECT_EINTR},
    {"sigtimedwait", NULL, do_sigtimedwait, NULL, EXPECT_EINTR, EXPECT_EINTR},
    {"sigsuspend", NULL, do_sigsuspend, NULL, EXPECT_EINTR, EXPECT_EINTR},
    {"pause", NULL, do_pause, NULL, EXPECT_EINTR, EXPECT_EINTR},
    {"poll", pipe_prepare, do_poll, NULL, EXPECT_EINTR, EXPECT_EINTR},
    {"read", pipe_prepare, do_read, release_read, EXPECT_EINTR, EXPECT_RESUME},
    {"sigwait", NULL, do_sigwait, release_sigwait, EXPECT_RESUME, EXPECT_RESUME},
    {"pthread_mutex_lock", lock_mutex, do_mutex_lock, unlock_mutex, EXPECT_RESUME, EXPECT_RESUME},
    {"pthread_mutex_timedlock", lock_mutex, do_mutex_timedlock, unlock_mutex, EXPECT_RESUME,
     EXPECT_RESUME},
    {"pthread_rwlock_wrlock", read_lock, do_wrlock, rw_unlock, EXPECT_RESUME, EXPECT_RESUME},
    {"pthread_rwlock_rdlock", write_lock, do_rdlock, rw_unlock, EXPECT_RESUME, EXPECT_RESUME},
    {"pthread_barrier_wait", barrier_prepare, do_barrier, release_barrier, EXPECT_RESUME,
     EXPECT_RESUME},
    {"pthread_cond_wait", cond_prepare, do_cond_wait, release_cond, EXPECT_RESUME, EXPECT_RESUME},
    {"pthread_join", join_prepare, do_join, release_gate, EXPECT_RESUME, EXPECT_RESUME},
    {"pthread_once", once_prepare, do_once, release_gate, EXPECT_RESUME, EXPECT_RESUME},
};

static const struct call* current_call;

static void* run_target(void* arg) {
  (void)arg;
  atomic_store(&target_tid, syscall(SYS_gettid));
  atomic_store(&entered, 1);
  result = current_call->run();
  atomic_store(&returned, 1);
  return NULL;
}

static int wait_for(atomic_int* flag, int value, int64_t within_ns) {
  int64_t give_up = now_ns() + within_ns;
  while (atomic_load(flag) != value && now_ns() < give_up) usleep(1000);
  return atomic_load(flag) == value;
}

static void run_case(const struct call* c, int restart) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = restart ? SA_RESTART : 0;
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  const char* how = restart ? "with SA_RESTART" : "without SA_RESTART";
  enum expect want = restart ? c->with_restart : c->without_restart;

  atomic_store(&handled_on_target, 0);
  atomic_store(&entered, 0);
  atomic_store(&returned, 0);
  result = -1;
  current_call = c;
  if (c->prepare != NULL) c->prepare();
  CHECK_RC(pthread_create(&target, NULL, run_target, NULL), 0);
  CHECK(wait_for(&entered, 1, 5 * NS_PER_S));
  usleep(50 * 1000); /* the target waits in the call by now */
  CHECK_MSG(!atomic_load(&returned), "%s returned before the signal (%s)", c->name, how);
  CHECK_RC(pthread_kill(target, SIGUSR1), 0);
  CHECK_MSG(wait_for(&handled_on_target, 1, 2 * NS_PER_S),
            "%s %s: the handler did not run on the waiting thread", c->name, how);
  if (want == EXPECT_EINTR) {
    CHECK_MSG(wait_for(&returned, 1, 2 * NS_PER_S), "%s %s: still waiting after the handler",
              c->name, how);
    CHECK_MSG(result == EINTR, "%s %s: ended with %d (%s), want EINTR", c->name, how, result,
              strerror(result));
  } else {
    usleep(50 * 1000);
    CHECK_MSG(!atomic_load(&returned),
              "%s %s: returned %d (%s) after the handler, want it to wait on", c->name, how, result,
              strerror(result));
    c->release();
    CHECK_MSG(wait_for(&returned, 1, 2 * NS_PER_S), "%s %s: still waiting after its release",
              c->name, how);
    CHECK_MSG(result == 0, "%s %s: ended with %d (%s), want 0", c->name, how, result,
              strerror(result));
  }
  CHECK_RC(pthread_join(target, NULL), 0);
  if (c->prepare == once_prepare) once_done();
  if (c->prepare == pipe_prepare) close(pipe_fds[1]);
  if (atomic_load(&target_tid) != getpid()) foreign_tid = atomic_load(&target_tid);
}

int main(int argc, char** argv) {
  for (int restart = 0; restart <= 1; restart++) {
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
      if (argc > 1 && strcmp(argv[1], calls[i].name) != 0) continue;
      run_case(&calls[i], restart);
    }
  }
  CHECK_MSG(atomic_load(&handled_elsewhere) == 0, "the handler ran %d times on another thread",
            atomic_load(&handled_elsewhere));
  CHECK_MSG(foreign_tid == 0,
            "a target ran on kernel thread %ld, but the process (pid %ld) must use only one "
            "kernel thread",
            foreign_tid, (long)getpid());
  CHECK_ONE_KERNEL_THREAD();
  printf("interrupted_calls: %zu calls, without and with SA_RESTART, as Linux\n",
         sizeof calls / sizeof calls[0]);
  return 0;
}
