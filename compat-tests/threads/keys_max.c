/* PTHREAD_KEYS_MAX keys for the program, counted in glibc's one table: a
 * plain program gets exactly PTHREAD_KEYS_MAX (sysconf agrees), less the
 * keys a library made with glibc's own pthread_key_create (found in libc.so.6
 * by name, as a library may do), which the program can use like its own:
 * values per thread and a destructor at thread exit. Nothing else in the
 * process may take one of them (a runtime's own keys, an unwinder's).
 * usage: keys_max   (keys_max_cxx.cc is the C++ variant: libstdc++ loaded and used) */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>

#include "check.h"

enum { GLIBC_KEYS = 3 };

static pthread_key_t glibc_keys[GLIBC_KEYS];
static int destructor_calls;

static void destructor(void* value) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK(value == &destructor_calls);
  destructor_calls++;
}

static void* set_values(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 0; i < GLIBC_KEYS; i++) {
    CHECK(pthread_getspecific(glibc_keys[i]) == NULL);
    CHECK_RC(pthread_setspecific(glibc_keys[i], &destructor_calls), 0);
    CHECK(pthread_getspecific(glibc_keys[i]) == &destructor_calls);
  }
  return NULL;
}

static void* nothing(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  return arg;
}

static int create_all(pthread_key_t* keys) {
  int n = 0;
  int rc;
  while ((rc = pthread_key_create(&keys[n], NULL)) == 0) {
    CHECK_MSG(n < PTHREAD_KEYS_MAX, "more than PTHREAD_KEYS_MAX (%d) keys", PTHREAD_KEYS_MAX);
    n++;
  }
  CHECK_RC(rc, EAGAIN);
  return n;
}

int keys_max_main(int argc, char** argv);

int keys_max_main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  (void)argv;
  CHECK_MSG(sysconf(_SC_THREAD_KEYS_MAX) == PTHREAD_KEYS_MAX, "sysconf: %ld keys",
            sysconf(_SC_THREAD_KEYS_MAX));
  CHECK(sysconf(_SC_THREAD_DESTRUCTOR_ITERATIONS) == PTHREAD_DESTRUCTOR_ITERATIONS);
  CHECK(sysconf(_SC_THREAD_STACK_MIN) == PTHREAD_STACK_MIN);
  CHECK(sysconf(_SC_THREAD_THREADS_MAX) == -1); /* glibc: no fixed limit */
  CHECK(sysconf(_SC_THREADS) > 0 && sysconf(_SC_THREAD_CPUTIME) > 0);

  /* A thread first: the process is multi-threaded (timers, a C++ runtime's
   * thread start-up) before the count. */
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, nothing, NULL), 0);
  CHECK_RC(pthread_join(t, NULL), 0);

  static pthread_key_t keys[PTHREAD_KEYS_MAX];
  int n = create_all(keys);
  CHECK_MSG(n == PTHREAD_KEYS_MAX, "%d keys for the program, want PTHREAD_KEYS_MAX (%d)%s", n,
            PTHREAD_KEYS_MAX, argc > 1 ? " with libstdc++ loaded" : "");
  for (int i = 0; i < n; i++) CHECK_RC(pthread_key_delete(keys[i]), 0);

  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  CHECK(libc != NULL);
  int (*glibc_key_create)(pthread_key_t*, void (*)(void*)) =
      (int (*)(pthread_key_t*, void (*)(void*)))dlvsym(libc, "pthread_key_create", "GLIBC_2.34");
  CHECK(glibc_key_create != NULL);
  for (int i = 0; i < GLIBC_KEYS; i++) CHECK_RC(glibc_key_create(&glibc_keys[i], destructor), 0);
  n = create_all(keys);
  CHECK_MSG(n == PTHREAD_KEYS_MAX - GLIBC_KEYS,
            "%d keys for the program after glibc's pthread_key_create made %d, want %d", n,
            GLIBC_KEYS, PTHREAD_KEYS_MAX - GLIBC_KEYS);
  for (int i = 0; i < n; i++) CHECK_RC(pthread_key_delete(keys[i]), 0);

  CHECK_RC(pthread_create(&t, NULL, set_values, NULL), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  CHECK_MSG(destructor_calls == GLIBC_KEYS, "%d destructor calls for glibc's keys, want %d",
            destructor_calls, GLIBC_KEYS);
  dlclose(libc);
  printf("keys_max: %d keys, %d of them made by glibc's pthread_key_create\n", PTHREAD_KEYS_MAX,
         GLIBC_KEYS);
  CHECK_ONE_KERNEL_THREAD();
  return 0;
}

#ifndef KEYS_MAX_NO_MAIN
int main(int argc, char** argv) { return keys_max_main(argc, argv); }
#endif
