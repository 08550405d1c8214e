/* Threads created through glibc's own pthread_create, reached without the
 * symbol the program links against: dlsym(RTLD_NEXT), dlsym(RTLD_DEFAULT), a
 * handle of libc, dlvsym with either version (a library's lookup, as jemalloc
 * makes it), and with an attribute glibc's own functions filled in. Each
 * thread runs, is joined with its result, and shares the one kernel thread;
 * on one kernel thread that cannot serve a second one, the first such
 * thread's call into the thread library fails. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "glibc_create_lib.h"

static atomic_int ran;

static void* body(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER; /* the thread library works here */
  CHECK_RC(pthread_mutex_lock(&m), 0);
  CHECK_RC(pthread_mutex_unlock(&m), 0);
  sched_yield();
  atomic_fetch_add(&ran, 1);
  return (char*)arg + 1;
}

static size_t own_stack_size(void) {
  pthread_attr_t a;
  CHECK_RC(pthread_getattr_np(pthread_self(), &a), 0);
  size_t size;
  CHECK_RC(pthread_attr_getstacksize(&a, &size), 0);
  pthread_attr_destroy(&a);
  return size;
}

static void* sized(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  size_t size = own_stack_size();
  CHECK_MSG(size >= 4u << 20, "stack of %zu bytes, 4 MiB asked", size);
  atomic_fetch_add(&ran, 1);
  return arg;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  static const char* const kNames[] = {"dlsym(RTLD_NEXT)", "dlsym(RTLD_DEFAULT)",
                                       "dlsym(libc handle)", "dlvsym(GLIBC_2.2.5)",
                                       "dlvsym(GLIBC_2.34)"};
  char token;
  for (int how = kRtldNext; how <= kVersion2_34; how++) {
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
      int rc = lib_create((enum lookup)how, &t[i], NULL, body, &token);
      CHECK_MSG(rc == 0, "%s: pthread_create gave %d", kNames[how], rc);
    }
    for (int i = 0; i < 3; i++) {
      void* result;
      CHECK_RC(pthread_join(t[i], &result), 0);
      CHECK_MSG(result == &token + 1, "%s: wrong result", kNames[how]);
    }
  }
  CHECK(atomic_load(&ran) == 15);

  /* glibc's attribute layout: a stack size and the detached state. */
  pthread_attr_t attr;
  CHECK_RC(lib_glibc_attr(&attr, 4u << 20, PTHREAD_CREATE_JOINABLE), 0);
  pthread_t t;
  CHECK_RC(lib_create(kRtldNext, &t, &attr, sized, NULL), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  CHECK_RC(lib_glibc_attr(&attr, 1u << 20, PTHREAD_CREATE_DETACHED), 0);
  CHECK_RC(lib_create(kRtldNext, &t, &attr, body, &token), 0);
  while (atomic_load(&ran) < 17) sched_yield();
  CHECK_ONE_KERNEL_THREAD();
  printf("glibc_create: every lookup of pthread_create made a thread of this kernel thread\n");
  return 0;
}
