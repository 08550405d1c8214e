// C11 <threads.h> on top of the core: glibc implements these with internal
// calls that never reach pthread_create, so they are interposed too.
#pragma once

#include <errno.h>
#include <threads.h>

#include "shim/shim.h"

namespace ptshim {

// An error number as a C11 result.
inline int c11_result(int err) {
  switch (err) {
    case 0:
      return thrd_success;
    case EBUSY:
      return thrd_busy;
    case ETIMEDOUT:
      return thrd_timedout;
    case ENOMEM:
    case EAGAIN:
      return thrd_nomem;
    default:
      return thrd_error;
  }
}

static_assert(sizeof(mtx_t) == sizeof(Mutex));
static_assert(sizeof(cnd_t) == sizeof(Cond));
static_assert(sizeof(once_flag) == sizeof(int));
inline Mutex* to_mutex(mtx_t* m) { return reinterpret_cast<Mutex*>(m); }
inline Cond* to_cond(cnd_t* c) { return reinterpret_cast<Cond*>(c); }
// thrd_t and pthread_t are both unsigned long in glibc: to_thread serves both.
static_assert(sizeof(thrd_t) == sizeof(pthread_t));
inline thrd_t to_thrd(Thread* t) { return reinterpret_cast<thrd_t>(t); }

}  // namespace ptshim
