/* A thread that runs a coroutine (ucontext) on a stack of its own, mapped
 * right below the thread's stack, and blocks and gets preempted while on it.
 * With PTSHIM_GUARDED_STACKS=0 the thread's stack has no guard page, so
 * ptshim checks the stack pointer for overflows: running just below the
 * stack must not be taken for one when the stack itself was never used down
 * to its bottom. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"
#include "own_stack.h"
#include "spinner.h"

#define COROUTINE_STACK (64 * 1024)

static ucontext_t thread_context, coroutine_context;
static volatile long coroutine_rounds;

static void coroutine(void) {
  for (int i = 0; i < 50; i++) {
    usleep(200);                                        /* blocks: a switch from here */
    for (volatile int spin = 0; spin < 20000; spin++) { /* ticks land here */
    }
    coroutine_rounds++;
  }
}

static void* worker(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  void* want = (char*)own_stack_lo() - COROUTINE_STACK;
  void* stack = mmap(want, COROUTINE_STACK, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  CHECK_MSG(stack == want, "cannot map the coroutine stack right below the thread's: %s",
            strerror(errno));
  CHECK(getcontext(&coroutine_context) == 0);
  coroutine_context.uc_stack.ss_sp = stack;
  coroutine_context.uc_stack.ss_size = COROUTINE_STACK;
  coroutine_context.uc_link = &thread_context;
  makecontext(&coroutine_context, coroutine, 0);
  CHECK(swapcontext(&thread_context, &coroutine_context) == 0);
  return NULL;
}

int main(void) {
  pthread_t w, s;
  /* The worker's stack is mapped last, so nothing lies right below it yet. */
  CHECK_RC(pthread_create(&s, NULL, spinner, NULL), 0);
  CHECK_RC(pthread_create(&w, NULL, worker, NULL), 0);
  CHECK_RC(pthread_join(w, NULL), 0);
  atomic_store(&stop_spinning, 1);
  CHECK_RC(pthread_join(s, NULL), 0);
  CHECK_MSG(coroutine_rounds == 50, "coroutine ran %ld of 50 rounds", coroutine_rounds);
  printf("coroutine_stack: 50 rounds on a stack below the thread's, no false overflow\n");
  return 0;
}
