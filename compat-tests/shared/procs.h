/* Helpers for the process-shared tests: memory shared between processes,
 * children that run a function and exit, and the one-kernel-thread check
 * made so that a native run still does all the cross-process work (a check
 * that stopped one process midway would leave the others waiting for it).
 */
#ifndef COMPAT_SHARED_PROCS_H
#define COMPAT_SHARED_PROCS_H

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "check.h"
#include "wait_status.h"

/* Thread bodies that ran on a kernel thread other than the process's one. */
static int procs_foreign_bodies;

/* At the start and end of every thread body: notes, does not stop. */
static inline void note_kernel_thread(void) {
  if (syscall(SYS_gettid) != getpid())
    __atomic_add_fetch(&procs_foreign_bodies, 1, __ATOMIC_RELAXED);
}

/* At the end of each process, after its threads were joined. */
static inline void check_process_used_one_kernel_thread(void) {
  CHECK_MSG(procs_foreign_bodies == 0,
            "%d thread bodies of process %ld ran on another kernel thread than its one",
            procs_foreign_bodies, (long)getpid());
  CHECK_ONE_KERNEL_THREAD();
}

static inline void* shared_memory(size_t size) {
  void* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK_MSG(p != MAP_FAILED, "mmap MAP_SHARED: %s", strerror(errno));
  return p;
}

/* A child process that runs body(arg), checks its one kernel thread and
 * exits 0 (a failed check exits 1 with its message). */
static inline pid_t spawn(void (*body)(void*), void* arg) {
  fflush(NULL);
  pid_t pid = fork();
  CHECK_MSG(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    procs_foreign_bodies = 0; /* the parent's, before the fork */
    body(arg);
    check_process_used_one_kernel_thread();
    fflush(NULL);
    _exit(0);
  }
  return pid;
}

static inline int wait_for(pid_t pid) {
  int status;
  CHECK_MSG(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
  return status;
}

/* The parent's end: its own check first (natively that is the one that
 * fails), then every child must have exited 0. */
static inline void finish(const pid_t* children, int n, const int* statuses) {
  check_process_used_one_kernel_thread();
  for (int i = 0; i < n; ++i) {
    char how[64];
    describe_wait_status(statuses[i], how, sizeof how);
    CHECK_MSG(WIFEXITED(statuses[i]) && WEXITSTATUS(statuses[i]) == 0, "child %ld %s, want exit 0",
              (long)children[i], how);
  }
}

/* A process-shared mutex (of the default type) and condvar, made in place. */
static inline void init_shared_mutex(pthread_mutex_t* m) {
  pthread_mutexattr_t a;
  CHECK_RC(pthread_mutexattr_init(&a), 0);
  CHECK_RC(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
  CHECK_RC(pthread_mutex_init(m, &a), 0);
  CHECK_RC(pthread_mutexattr_destroy(&a), 0);
}

static inline void init_shared_cond(pthread_cond_t* c) {
  pthread_condattr_t a;
  CHECK_RC(pthread_condattr_init(&a), 0);
  CHECK_RC(pthread_condattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
  CHECK_RC(pthread_cond_init(c, &a), 0);
  CHECK_RC(pthread_condattr_destroy(&a), 0);
}

/* Busy for about `ns` of wall time, yielding: lets the other processes run. */
static inline void spin_for(int64_t ns) {
  int64_t end = now_ns() + ns;
  while (now_ns() < end) sched_yield();
}

#endif /* COMPAT_SHARED_PROCS_H */
