// Two threads add to a counter under a mutex; prints the total, exits 0.
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void* worker(void* arg) {
  (void)arg;
  for (int i = 0; i < 1000; ++i) {
    pthread_mutex_lock(&lock);
    ++counter;
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

int main(void) {
  pthread_t a, b;
  if (pthread_create(&a, NULL, worker, NULL) != 0 || pthread_create(&b, NULL, worker, NULL) != 0)
    return 3;
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("counter=%ld\n", counter);
  return counter == 2000 ? 0 : 1;
}
