/* Signals and user threads: each thread keeps its own signal mask across
 * switches; raise() runs the handler on the raising thread; a thread waits
 * in sigwait / sigtimedwait while the others keep running; a
 * process-directed signal runs its handler without disturbing the
 * scheduler. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "check.h"
#include "spinner.h"

static pthread_t raiser;
static atomic_int raised_on_self;
static atomic_int process_signals;

static void on_usr1(int sig) {
  (void)sig;
  if (pthread_equal(pthread_self(), raiser)) atomic_fetch_add(&raised_on_self, 1);
}

static void on_usr2(int sig) {
  (void)sig;
  atomic_fetch_add(&process_signals, 1);
}

static int blocks(int sig) {
  sigset_t now;
  CHECK_RC(pthread_sigmask(SIG_SETMASK, NULL, &now), 0);
  return sigismember(&now, sig);
}

/* Blocks SIGHUP in itself only, then checks it stays blocked (and SIGURG
 * unblocked) across many switches. */
static void* masked(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  sigset_t hup;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  CHECK_RC(pthread_sigmask(SIG_BLOCK, &hup, NULL), 0);
  for (int i = 0; i < 200; i++) {
    sched_yield();
    CHECK_MSG(blocks(SIGHUP) && !blocks(SIGURG), "mask lost after switch %d", i);
  }
  return NULL;
}

static void* unmasked(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 0; i < 200; i++) {
    sched_yield();
    CHECK_MSG(!blocks(SIGHUP), "another thread's mask leaked in after switch %d", i);
  }
  return NULL;
}

static void* raises(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 0; i < 10; i++) {
    CHECK(raise(SIGUSR1) == 0);
    sched_yield();
  }
  return NULL;
}

static void* waiter(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigaddset(&set, SIGWINCH);
  int sig = 0;
  long before = atomic_load(&spins);
  CHECK_RC(sigwait(&set, &sig), 0);
  CHECK(sig == SIGWINCH);
  CHECK_MSG(atomic_load(&spins) > before, "nothing else ran while sigwait waited");
  struct timespec short_wait = {0, 30 * 1000 * 1000};
  long long t0 = now_ns();
  CHECK(sigtimedwait(&set, NULL, &short_wait) == -1 && errno == EAGAIN);
  CHECK(now_ns() - t0 >= 30 * NS_PER_MS);
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  sa.sa_handler = on_usr2;
  CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);

  pthread_t m, u;
  CHECK_RC(pthread_create(&m, NULL, masked, NULL), 0);
  CHECK_RC(pthread_create(&u, NULL, unmasked, NULL), 0);
  CHECK_RC(pthread_create(&raiser, NULL, raises, NULL), 0);
  CHECK_RC(pthread_join(m, NULL), 0);
  CHECK_RC(pthread_join(u, NULL), 0);
  CHECK_RC(pthread_join(raiser, NULL), 0);
  CHECK_MSG(atomic_load(&raised_on_self) == 10, "raise ran the handler on the raiser %d times",
            atomic_load(&raised_on_self));
  CHECK(!blocks(SIGHUP));

  /* SIGWINCH blocked everywhere (inherited), taken by sigwait. */
  sigset_t winch;
  sigemptyset(&winch);
  sigaddset(&winch, SIGWINCH);
  CHECK_RC(pthread_sigmask(SIG_BLOCK, &winch, NULL), 0);
  pthread_t s, w;
  CHECK_RC(pthread_create(&s, NULL, spinner, NULL), 0);
  CHECK_RC(pthread_create(&w, NULL, waiter, NULL), 0);
  usleep(20 * 1000);
  for (int i = 0; i < 3; i++) CHECK(kill(getpid(), SIGUSR2) == 0); /* handled, not waited */
  usleep(10 * 1000);
  CHECK(kill(getpid(), SIGWINCH) == 0);
  CHECK_RC(pthread_join(w, NULL), 0);
  atomic_store(&stop_spinning, 1);
  CHECK_RC(pthread_join(s, NULL), 0);
  CHECK_MSG(atomic_load(&process_signals) >= 1, "SIGUSR2 handler never ran");
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "signals: per-thread masks kept, raise() on the raiser, sigwait/sigtimedwait let "
      "others run, process-directed handler ran\n");
  return 0;
}
