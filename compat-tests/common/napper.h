/* A thread that sleeps 1 ms at a time, counting its naps, until told to stop.
 * A test that sees `naps` advance knows sleeping threads kept being woken
 * (while another thread waited in a call, or across a fork). Include it in
 * one file per program. */
#ifndef COMPAT_NAPPER_H
#define COMPAT_NAPPER_H

#include <stdatomic.h>
#include <unistd.h>

#include "check.h"

static atomic_int stop_napping;
static atomic_long naps;

static void* napper(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  while (!atomic_load(&stop_napping)) {
    usleep(1000);
    atomic_fetch_add(&naps, 1);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

#endif
