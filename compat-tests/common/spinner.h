/* A thread that spins with no library call until told to stop. A test that
 * sees `spins` advance while another thread waited in a call knows the call
 * did not block the one kernel thread. Include it in one file per program. */
#ifndef COMPAT_SPINNER_H
#define COMPAT_SPINNER_H

#include <stdatomic.h>

#include "check.h"

static atomic_int stop_spinning;
static atomic_long spins;

static void* spinner(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  while (!atomic_load_explicit(&stop_spinning, memory_order_relaxed))
    atomic_fetch_add_explicit(&spins, 1, memory_order_relaxed);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

#endif
