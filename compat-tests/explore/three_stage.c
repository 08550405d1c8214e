/* A bug of depth 3 among three threads: the mover moves money from one
 * account to the other in two critical sections, so for a moment it is in
 * neither. The bug needs three orderings: the watchdog checks the books
 * after the mover's first section (and raises the alarm), the responder
 * checks after the watchdog, and both before the mover's second section;
 * then the responder confirms the loss and stops the process. Any other
 * order is harmless: a responder without an alarm does nothing, and one
 * that comes after the second section finds the books balanced. The fixed
 * twin (-DFIXED) moves the money in one critical section. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { kTotal = 100, kAmount = 30 };

static pthread_mutex_t books = PTHREAD_MUTEX_INITIALIZER;
static int checking = kTotal, savings;
static int alarm_raised;

static volatile long interest;

static int balanced(void) { return checking + savings == kTotal; }

/* The mover's bookkeeping between taking the money and putting it back. */
static void work(int units) {
  for (int i = 0; i < units; i++) interest += i;
}

static void* mover(void* arg) {
  (void)arg;
  pthread_mutex_lock(&books);
  checking -= kAmount;
#ifndef FIXED
  pthread_mutex_unlock(&books);
#endif
  work(40000);
#ifndef FIXED
  pthread_mutex_lock(&books);
#endif
  savings += kAmount;
  pthread_mutex_unlock(&books);
  return NULL;
}

static void* watchdog(void* arg) {
  (void)arg;
  pthread_mutex_lock(&books);
  if (!balanced()) alarm_raised = 1;
  pthread_mutex_unlock(&books);
  return NULL;
}

static void* responder(void* arg) {
  (void)arg;
  pthread_mutex_lock(&books);
  if (alarm_raised && !balanced()) {
    fprintf(stderr, "three_stage: alarm confirmed: %d of %d missing from the books\n",
            kTotal - checking - savings, kTotal);
    exit(1);
  }
  pthread_mutex_unlock(&books);
  return NULL;
}

int main(void) {
  pthread_t t[3];
  void* (*body[3])(void*) = {mover, watchdog, responder};
  for (int i = 0; i < 3; i++)
    if (pthread_create(&t[i], NULL, body[i], NULL) != 0) return 2;
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  printf("three_stage: the books balance\n");
  return 0;
}
