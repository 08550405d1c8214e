// The core's interface to shim/: every subsystem's header, and start-up.
// Nothing in core/ includes this file; each core file includes the headers
// of the subsystems it uses.
//
//   core/base    options, internal memory, time, the report writer, dying
//   core/sched   threads as scheduled, the core section, block/wake,
//                deadlines, preemption, the scheduling policy
//   core/sync    mutexes, condvars, barriers, rwlocks, semaphores, once, spin
//   core/thread  create/join/exit, stacks, TLS blocks, keys, cancellation
//   core/io      fd and futex waits
//   core/signal  masks, the program's actions, thread-directed signals
//   core/diag    reports: faults, overflows, deadlocks, thread dumps
#pragma once

#include "core/base/base.h"
#include "core/diag/diag.h"
#include "core/io/io.h"
#include "core/sched/sched.h"
#include "core/signal/signal.h"
#include "core/sync/sync.h"
#include "core/thread/thread.h"

namespace ptshim {

// The slow path of ShimEntry: initializes ptshim on the very first call, or
// reports a call from a kernel thread ptshim does not run (core/init.cc).
void ensure_initialized_or_die(const char* function);
// What the process writes last (--stats, a recording's schedule line, the
// trace's end): at exit, and from _exit and _Exit, which skip destructors.
void finish_process();

}  // namespace ptshim

// shim/pthread_create.cc's pthread_create, by a hidden name: what glibc's own
// pthread_create is routed to at start-up.
extern "C" int ptshim_pthread_create(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
