/* A threaded program that uses SIGALRM itself, through setitimer:
 *   default  - no handler: a watchdog alarm must kill the process by SIGALRM,
 *              while two threads spin;
 *   handler  - its own handler, installed before any thread exists: it runs,
 *              and the threads (which need preemption to share the CPU) finish;
 *   handler-late - the same, with the handler installed after the threads
 *              started (when the timer that preempts them is running).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/time.h>

#include "check.h"

static atomic_int handler_calls;
static atomic_int stop;
static atomic_long progress[2];

static void on_alarm(int sig) {
  (void)sig;
  atomic_fetch_add(&handler_calls, 1);
}

static void* spinner(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  long i = (long)arg;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    atomic_fetch_add_explicit(&progress[i], 1, memory_order_relaxed);
  }
  return NULL;
}

static void arm_alarm_ms(long ms) {
  struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int late = argc > 1 && strcmp(argv[1], "handler-late") == 0;
  int with_handler = late || (argc > 1 && strcmp(argv[1], "handler") == 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  if (with_handler && !late) {
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
  }
  pthread_t t[2];
  for (long i = 0; i < 2; i++) CHECK_RC(pthread_create(&t[i], NULL, spinner, (void*)i), 0);
  if (late) {
    usleep(20 * 1000);
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
  }
  arm_alarm_ms(100);
  if (!with_handler) {
    for (;;) {
    } /* the watchdog must end this */
  }
  long long give_up = now_ns() + 5 * NS_PER_S;
  while (atomic_load(&handler_calls) == 0) {
    CHECK_MSG(now_ns() < give_up, "the program's SIGALRM handler never ran");
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++) CHECK_RC(pthread_join(t[i], NULL), 0);
  CHECK(progress[0] > 0 && progress[1] > 0);
  CHECK_ONE_KERNEL_THREAD();
  printf("program_alarm: the program's own SIGALRM handler ran %d time(s); both spinners ran\n",
         atomic_load(&handler_calls));
  return 0;
}
