// Mistakes glibc lets pass: an unlock by a thread that does not hold the
// mutex, and a destroy of a locked one.
#include <pthread.h>

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;

static void* consumer(void* arg) {
  pthread_mutex_unlock(&queue_lock);  // main holds it
  return arg;
}

int main(void) {
  pthread_mutex_lock(&queue_lock);
  pthread_t t;
  pthread_create(&t, NULL, consumer, NULL);
  pthread_join(t, NULL);
  pthread_mutex_lock(&queue_lock);
  pthread_mutex_destroy(&queue_lock);  // still locked
  return 0;
}
