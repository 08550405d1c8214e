/* The calling thread's stack as pthread_getattr_np reports it. */
#ifndef COMPAT_OWN_STACK_H
#define COMPAT_OWN_STACK_H

#include <pthread.h>

#include "check.h"

static inline void* own_stack_lo(void) {
  pthread_attr_t self;
  void* lo;
  size_t size;
  CHECK_RC(pthread_getattr_np(pthread_self(), &self), 0);
  CHECK_RC(pthread_attr_getstack(&self, &lo, &size), 0);
  CHECK_RC(pthread_attr_destroy(&self), 0);
  return lo;
}

#endif
