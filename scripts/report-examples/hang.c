// A program that stops making progress; the script sends it SIGQUIT.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t table = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;

static void* waiter(void* arg) {
  pthread_mutex_lock(&table);
  pthread_cond_wait(&ready, &table);  // no one signals
  pthread_mutex_unlock(&table);
  return arg;
}

static void* sleeper(void* arg) {
  sleep(30);
  return arg;
}

int main(void) {
  pthread_t w, s;
  pthread_create(&w, NULL, waiter, NULL);
  pthread_create(&s, NULL, sleeper, NULL);
  printf("started\n");
  fflush(stdout);
  pthread_join(w, NULL);
  return 0;
}
