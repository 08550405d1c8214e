// Exits with status 1 after its thread ran: an ordinary failing program.
#include <pthread.h>
#include <stdio.h>

static void* worker(void* arg) {
  (void)arg;
  fprintf(stderr, "exit_one: the worker says the check failed\n");
  return NULL;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, worker, NULL) != 0) return 3;
  pthread_join(t, NULL);
  return 1;
}
