// Never ends: main joins a thread that waits for a signal nobody sends.
#include <pthread.h>
#include <unistd.h>

static void* worker(void* arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, worker, NULL) != 0) return 3;
  pthread_join(t, NULL);
  return 0;
}
