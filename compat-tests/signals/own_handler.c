/* A program with its own SIGSEGV handler keeps it: a NULL dereference in a
 * thread is caught by the program (siglongjmp back), and sigaction reports
 * the program's handler. A stack overflow is still reported by the shim,
 * then handed to the program's handler, which recovers the same way. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>

#include "check.h"

static __thread sigjmp_buf recover_point;
static volatile sig_atomic_t handled;

static void on_segv(int sig, siginfo_t* info, void* uc) {
  (void)sig;
  (void)info;
  (void)uc;
  handled++;
  siglongjmp(recover_point, 1);
}

__attribute__((noinline)) static int recurse_forever(int depth) {
  volatile char frame[64];
  frame[0] = (char)depth;
  if (depth < 0) return 0; /* never: keeps the compiler from calling it endless */
  return recurse_forever(depth + 1) + frame[0];
}

static void* null_deref(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  if (sigsetjmp(recover_point, 1) == 0) {
    volatile int* p = (volatile int*)arg;
    return (void*)(long)*p;
  }
  return (void*)1;
}

static void* overflow(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  if (sigsetjmp(recover_point, 1) == 0) return (void*)(long)recurse_forever(0);
  return (void*)1;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  stack_t ss = {.ss_sp = malloc(256 * 1024), .ss_size = 256 * 1024};
  CHECK(sigaltstack(&ss, NULL) == 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
  struct sigaction now;
  CHECK(sigaction(SIGSEGV, NULL, &now) == 0);
  CHECK_MSG(now.sa_sigaction == on_segv, "sigaction does not report the program's handler");

  pthread_attr_t attr;
  CHECK_RC(pthread_attr_init(&attr), 0);
  CHECK_RC(pthread_attr_setstacksize(&attr, 128 * 1024), 0);
  pthread_t t;
  void* result;
  CHECK_RC(pthread_create(&t, &attr, null_deref, NULL), 0);
  CHECK_RC(pthread_join(t, &result), 0);
  CHECK_MSG(result == (void*)1 && handled == 1, "NULL dereference not recovered (%d)", handled);
  printf("own_handler: recovered from a NULL dereference\n");
  CHECK_RC(pthread_create(&t, &attr, overflow, NULL), 0);
  CHECK_RC(pthread_join(t, &result), 0);
  CHECK_MSG(result == (void*)1 && handled == 2, "overflow not recovered (%d)", handled);
  printf("own_handler: recovered from a stack overflow\n");
  CHECK_ONE_KERNEL_THREAD();
  return 0;
}
