// A thread calls abort(): the program dies by SIGABRT.
#include <pthread.h>
#include <stdlib.h>

static void* worker(void* arg) {
  (void)arg;
  abort();
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, worker, NULL) != 0) return 3;
  pthread_join(t, NULL);
  return 0;
}
