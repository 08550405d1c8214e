/* The program's own SIGTRAP handler: two threads execute int3 instructions
 * and raise(SIGTRAP) among plain arithmetic, and the handler must see every
 * one of them, each with its own si_code, on the thread that trapped (a
 * debugger-free program may use traps as cheap checkpoints). Prints the
 * counts. Under a seeded schedule the shim steps the threads through their
 * own SIGTRAPs, and a third thread that blocks every signal. */
#include <pthread.h>
#include <signal.h>

#include "check.h"

enum { ROUNDS = 300, INT3_EVERY = 10, RAISE_EVERY = 50, THREADS = 2, BLOCKED_ROUNDS = 2000 };

static volatile int int3_traps, raised_traps, other_traps;
static __thread volatile int my_traps;
static volatile long work;

static void on_trap(int sig, siginfo_t* info, void* ucontext) {
  (void)ucontext;
  if (sig != SIGTRAP) {
    other_traps++;
  } else if (info->si_code == SI_KERNEL) {
    int3_traps++; /* the int3 instruction */
  } else if (info->si_code == SI_TKILL) {
    raised_traps++; /* raise() */
  } else {
    other_traps++;
  }
  my_traps++;
}

static void* worker(void* arg) {
  long id = (long)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 1; i <= ROUNDS; i++) {
    work += id * i;
    if (i % INT3_EVERY == 0) __asm__ volatile("int3" ::: "memory");
    if (i % RAISE_EVERY == 0) CHECK(raise(SIGTRAP) == 0);
  }
  int want = ROUNDS / INT3_EVERY + ROUNDS / RAISE_EVERY;
  CHECK_MSG(my_traps == want, "thread %ld took %d traps, want %d", id, my_traps, want);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

/* Runs with every signal blocked: the kernel must still deliver the traps
 * that count its instructions (natively nothing traps here). */
static void* blocker(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  sigset_t all;
  sigfillset(&all);
  CHECK_RC(pthread_sigmask(SIG_BLOCK, &all, NULL), 0);
  for (int i = 1; i <= BLOCKED_ROUNDS; i++) work += i;
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_trap;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(SIGTRAP, &sa, NULL) == 0);
  struct sigaction back;
  CHECK(sigaction(SIGTRAP, NULL, &back) == 0);
  CHECK_MSG(back.sa_sigaction == on_trap, "sigaction reports another handler");
  pthread_t threads[THREADS], blocked;
  CHECK_RC(pthread_create(&blocked, NULL, blocker, NULL), 0);
  for (long i = 0; i < THREADS; i++)
    CHECK_RC(pthread_create(&threads[i], NULL, worker, (void*)(i + 1)), 0);
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_join(threads[i], NULL), 0);
  CHECK_RC(pthread_join(blocked, NULL), 0);
  CHECK_MSG(int3_traps == THREADS * (ROUNDS / INT3_EVERY), "%d int3 traps", int3_traps);
  CHECK_MSG(raised_traps == THREADS * (ROUNDS / RAISE_EVERY), "%d raised traps", raised_traps);
  CHECK_MSG(other_traps == 0, "%d other traps", other_traps);
  CHECK_ONE_KERNEL_THREAD();
  printf("own_trap: %d int3 traps, %d raised, work %ld\n", int3_traps, raised_traps, work);
  return 0;
}
