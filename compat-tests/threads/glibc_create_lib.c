/* A library that starts threads the way jemalloc starts its background
 * thread: it looks pthread_create up itself, after the preload, instead of
 * linking against it. Every lookup below finds glibc's own function (or the
 * first definition in the global scope); each must still make a thread that
 * behaves like one from pthread_create. */
#include "glibc_create_lib.h"

#include <dlfcn.h>
#include <stddef.h>

typedef int (*create_fn)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);

static void* libc_handle(void) { return dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD); }

static create_fn lookup(enum lookup how) {
  switch (how) {
    case kRtldNext:
      return (create_fn)dlsym(RTLD_NEXT, "pthread_create");
    case kRtldDefault:
      return (create_fn)dlsym(RTLD_DEFAULT, "pthread_create");
    case kLibcHandle:
      return (create_fn)dlsym(libc_handle(), "pthread_create");
    case kVersion2_2_5:
      return (create_fn)dlvsym(libc_handle(), "pthread_create", "GLIBC_2.2.5");
    case kVersion2_34:
      return (create_fn)dlvsym(libc_handle(), "pthread_create", "GLIBC_2.34");
  }
  return NULL;
}

int lib_create(enum lookup how, pthread_t* t, const pthread_attr_t* attr, void* (*start)(void*),
               void* arg) {
  create_fn create = lookup(how);
  return create == NULL ? -1 : create(t, attr, start, arg);
}

/* An attribute filled in by glibc's own functions, as glibc's internal
 * callers of pthread_create fill theirs. */
int lib_glibc_attr(pthread_attr_t* attr, size_t stack_size, int detach_state) {
  void* libc = libc_handle();
  int (*init)(pthread_attr_t*) = (int (*)(pthread_attr_t*))dlsym(libc, "pthread_attr_init");
  int (*set_size)(pthread_attr_t*, size_t) =
      (int (*)(pthread_attr_t*, size_t))dlsym(libc, "pthread_attr_setstacksize");
  int (*set_detach)(pthread_attr_t*, int) =
      (int (*)(pthread_attr_t*, int))dlsym(libc, "pthread_attr_setdetachstate");
  if (init == NULL || set_size == NULL || set_detach == NULL) return -1;
  int err = init(attr);
  if (err == 0) err = set_size(attr, stack_size);
  if (err == 0) err = set_detach(attr, detach_state);
  return err;
}
