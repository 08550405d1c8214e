/* A deadlock in a program with a SIGEV_THREAD timer: the timer fires once,
 * then main waits for a second notification that no armed timer will ever
 * send. With nothing armed the timer's notifications cannot come, so the
 * harness expects the deadlock report, which shows ptshim's timer thread
 * with nothing armed, instead of a hang. While the timer was armed, main's
 * untimed wait for the first notification was no deadlock. In between, a
 * thread dump (SIGQUIT) shows that thread waiting for an armed timer. */
#include <semaphore.h>
#include <signal.h>
#include <time.h>

#include "check.h"

static sem_t notified;

static void notify(union sigval v) {
  (void)v;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK(sem_post(&notified) == 0);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK(sem_init(&notified, 0, 0) == 0);
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_THREAD;
  ev.sigev_notify_function = notify;
  timer_t t;
  CHECK(timer_create(CLOCK_MONOTONIC, &ev, &t) == 0);
  struct itimerspec once = {{0, 0}, {0, 20 * NS_PER_MS}};
  CHECK(timer_settime(t, 0, &once, NULL) == 0);
  CHECK(sem_wait(&notified) == 0);

  timer_t later;
  CHECK(timer_create(CLOCK_MONOTONIC, &ev, &later) == 0);
  struct itimerspec ten_s = {{0, 0}, {10, 0}};
  CHECK(timer_settime(later, 0, &ten_s, NULL) == 0);
  CHECK(raise(SIGQUIT) == 0);
  CHECK(timer_delete(later) == 0);

  fprintf(stderr, "timer_deadlock: notified once; now waiting for a timer nobody armed\n");
  CHECK(sem_wait(&notified) == 0);
  CHECK_MSG(0, "a second notification came from a one-shot timer");
}
