/* An order violation: main starts the worker and only then publishes the
 * configuration the worker reads once its device has warmed up (5 ms, spent
 * polling the clock as a driver's busy-wait does). A worker that gets there
 * before main's store follows a null pointer and the process dies of
 * SIGSEGV. The fixed twin (-DFIXED) publishes the configuration before
 * pthread_create. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

struct config {
  char name[32];
  int retries;
};

static struct config the_config = {"worker-1", 3};
static struct config* volatile config; /* published by main */

static long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void warm_up(long us) {
  long start = now_us();
  while (now_us() - start < us) {
  }
}

static void* worker(void* arg) {
  (void)arg;
  warm_up(5000);
  struct config* c = config;
  int tries = 0;
  while (tries < c->retries) tries++;
  return (void*)(long)tries;
}

static void publish(void) { config = &the_config; }

int main(void) {
  pthread_t t;
#ifdef FIXED
  publish();
#endif
  if (pthread_create(&t, NULL, worker, NULL) != 0) return 2;
#ifndef FIXED
  publish();
#endif
  void* tries;
  pthread_join(t, &tries);
  if ((long)tries != 3) {
    fprintf(stderr, "order_publish: the worker tried %ld times, want 3\n", (long)tries);
    return 1;
  }
  printf("order_publish: the worker read its configuration\n");
  return 0;
}
