/* pthread keys across rounds of 1,000 threads: all 1,000 at once on 64 KiB
 * stacks, or ten batches of 100 on default stacks. Every thread sets its own
 * values under keys with destructors (and one without, and leaves some keys
 * NULL); at its exit each destructor is called exactly once per non-NULL
 * value, with that thread's value, on that thread. One destructor stores a
 * second value, which gets a second pass. A key created afresh each round
 * (most likely at the index of the one deleted the round before) reads NULL
 * in every new thread and in main, which set a value under the old one.
 * usage: keys_1000 [MILLISECONDS]   (default 1500) */
#include <pthread.h>
#include <sched.h>

#include "check.h"
#include "storm.h"

enum { THREADS = 1000, BATCH = 100, KEYS = 4, SMALL_STACK = 64 * 1024 };

struct value {
  int thread, key, pass;
  pthread_t owner;
  int calls;
};

static pthread_key_t keys[KEYS]; /* with destructors */
static pthread_key_t plain_key;  /* no destructor */
static pthread_key_t fresh_key;  /* created and deleted every round */
static struct value values[THREADS][KEYS];
static struct value second_values[THREADS]; /* stored by key 2's destructor */
static int64_t deadline;
static long preempted_spins, destructor_calls;

static int key_is_set(int thread, int k) { return k != 3 || thread % 3 == 0; }

static void destructor(void* p) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct value* v = p;
  CHECK_MSG(v->thread >= 0 && v->thread < THREADS && v->key >= 0 && v->key < KEYS,
            "a destructor got a value that is none of the thread's: %p", p);
  CHECK_MSG(pthread_equal(v->owner, pthread_self()),
            "key %d: the destructor for thread %d's value ran on another thread", v->key,
            v->thread);
  /* POSIX: the key's value is NULL when its destructor is called. */
  CHECK_MSG(pthread_getspecific(keys[v->key]) == NULL,
            "key %d: value not reset to NULL before the destructor", v->key);
  v->calls++;
  __atomic_add_fetch(&destructor_calls, 1, __ATOMIC_RELAXED);
  if (v->key == 2 && v->pass == 0) {
    /* A second value during destruction: the next pass destroys it. */
    struct value* second = &second_values[v->thread];
    CHECK_RC(pthread_setspecific(keys[2], second), 0);
  }
}

static void* worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int idx = (int)(long)arg;
  uint64_t rng = storm_seed(idx);
  for (int k = 0; k < KEYS; k++)
    CHECK_MSG(pthread_getspecific(keys[k]) == NULL, "thread %d: key %d starts non-NULL", idx, k);
  CHECK_MSG(pthread_getspecific(fresh_key) == NULL,
            "thread %d: a key created this round starts with a value", idx);
  CHECK(pthread_getspecific(plain_key) == NULL);
  /* The thread may run to its end before pthread_create returns: it names
   * itself the owner (main compares with what pthread_create gave). */
  for (int k = 0; k < KEYS; k++) values[idx][k].owner = pthread_self();
  second_values[idx].owner = pthread_self();
  for (int k = 0; k < KEYS; k++)
    if (key_is_set(idx, k)) CHECK_RC(pthread_setspecific(keys[k], &values[idx][k]), 0);
  CHECK_RC(pthread_setspecific(plain_key, &values[idx][0]), 0);
  CHECK_RC(pthread_setspecific(fresh_key, &second_values[idx]), 0);
  for (int r = 0; r < 3; r++) {
    __atomic_add_fetch(&preempted_spins, storm_spin_watch(idx, storm_rand(&rng) % 20000),
                       __ATOMIC_RELAXED);
    if (r == 1) sched_yield();
    for (int k = 0; k < KEYS; k++) {
      void* want = key_is_set(idx, k) ? &values[idx][k] : NULL;
      CHECK_MSG(pthread_getspecific(keys[k]) == want, "thread %d: key %d holds %p, want %p", idx, k,
                pthread_getspecific(keys[k]), want);
    }
    CHECK(pthread_getspecific(plain_key) == &values[idx][0]);
    CHECK(pthread_getspecific(fresh_key) == &second_values[idx]);
  }
  for (int k = 0; k < KEYS; k++)
    CHECK_MSG(values[idx][k].calls == 0, "thread %d: key %d destructor ran early", idx, k);
  CHECK_ON_MAIN_KERNEL_THREAD();
  if (idx % 2 == 0) pthread_exit(NULL);
  return NULL;
}

static void start_thread(pthread_t* t, const pthread_attr_t* attr, int idx) {
  for (int k = 0; k < KEYS; k++)
    values[idx][k] = (struct value){.thread = idx, .key = k, .pass = 0, .owner = 0, .calls = 0};
  second_values[idx] = (struct value){.thread = idx, .key = 2, .pass = 1, .owner = 0, .calls = 0};
  CHECK_RC(pthread_create(t, attr, worker, (void*)(long)idx), 0);
}

static void check_thread(const pthread_t* t, int idx, long round) {
  CHECK_MSG(pthread_equal(values[idx][0].owner, *t) && pthread_equal(second_values[idx].owner, *t),
            "round %ld thread %d: pthread_self() in the thread differs from pthread_create's id",
            round, idx);
  for (int k = 0; k < KEYS; k++) {
    int want = key_is_set(idx, k) ? 1 : 0;
    CHECK_MSG(values[idx][k].calls == want,
              "round %ld thread %d key %d: destructor called %d times by the time join "
              "returned, want %d",
              round, idx, k, values[idx][k].calls, want);
  }
  CHECK_MSG(second_values[idx].calls == 1,
            "round %ld thread %d: the value stored by a destructor was destroyed %d times", round,
            idx, second_values[idx].calls);
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  deadline = storm_deadline(argc, argv, 1, start);
  for (int k = 0; k < KEYS; k++) CHECK_RC(pthread_key_create(&keys[k], destructor), 0);
  CHECK_RC(pthread_key_create(&plain_key, NULL), 0);
  CHECK_RC(pthread_setspecific(keys[0], &values[0][0]), 0); /* main's own */

  pthread_attr_t small;
  CHECK_RC(pthread_attr_init(&small), 0);
  CHECK_RC(pthread_attr_setstacksize(&small, SMALL_STACK), 0);
  static pthread_t t[THREADS];
  long round = 0, all_at_once = 0, batched = 0;
  for (; round == 0 || now_ns() < deadline; round++) {
    CHECK_RC(pthread_key_create(&fresh_key, NULL), 0);
    /* Main stored a value under last round's key, most likely at the same
     * index: it must not show through the new key. */
    CHECK_MSG(pthread_getspecific(fresh_key) == NULL,
              "round %ld: a new key shows main's value stored under a deleted one", round);
    CHECK_RC(pthread_setspecific(fresh_key, &second_values[0]), 0);
    if (round % 2 == 0) {
      for (int i = 0; i < THREADS; i++) start_thread(&t[i], &small, i);
      for (int i = 0; i < THREADS; i++) {
        CHECK_RC(pthread_join(t[i], NULL), 0);
        check_thread(&t[i], i, round);
      }
      all_at_once++;
    } else {
      for (int b = 0; b < THREADS; b += BATCH) {
        for (int i = b; i < b + BATCH; i++) start_thread(&t[i], NULL, i);
        for (int i = b; i < b + BATCH; i++) {
          CHECK_RC(pthread_join(t[i], NULL), 0);
          check_thread(&t[i], i, round);
        }
      }
      batched++;
    }
    CHECK_RC(pthread_key_delete(fresh_key), 0);
  }
  CHECK_MSG(pthread_getspecific(keys[0]) == &values[0][0], "main's value changed");
  CHECK_MSG(pthread_getspecific(keys[1]) == NULL, "main got a value it never set");
  long per_round = 0;
  for (int i = 0; i < THREADS; i++)
    for (int k = 0; k < KEYS; k++) per_round += key_is_set(i, k);
  per_round += THREADS; /* the second values */
  CHECK_MSG(destructor_calls == per_round * round, "%ld destructor calls, want %ld",
            destructor_calls, per_round * round);
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "keys_1000: %ld rounds of %d threads (%ld all at once on 64 KiB stacks, %ld in batches of "
      "%d) in %.0f ms: %ld destructor calls, each exactly once with its thread's value, on its "
      "thread; %ld spins interrupted\n",
      round, THREADS, all_at_once, batched, BATCH, (double)(now_ns() - start) / NS_PER_MS,
      destructor_calls, preempted_spins);
  return 0;
}
