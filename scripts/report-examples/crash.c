// A null pointer in a worker thread: the crash report.
#include <pthread.h>
#include <stdio.h>

struct config {
  const char* name;
};

static int name_length(const struct config* c) {
  int n = 0;
  while (c->name[n] != '\0') ++n;
  return n;
}

static void* load(void* arg) {
  printf("loading %d\n", name_length(arg));
  return NULL;
}

int main(void) {
  struct config broken = {NULL};
  pthread_t t;
  pthread_create(&t, NULL, load, &broken);
  pthread_join(t, NULL);
  return 0;
}
