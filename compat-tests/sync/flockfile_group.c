/* flockfile groups: a thread that holds a FILE's lock keeps it across
 * preemptions, and other threads wait for it.
 *  1. Deterministic: A takes stdout's lock; B's ftrylockfile fails while A
 *     holds it, also after A took it again recursively (flockfile and
 *     ftrylockfile by the owner succeed at once) and released one level;
 *     after A's last funlockfile B's ftrylockfile succeeds. Then B blocks in
 *     flockfile while A holds the lock and sleeps, and gets it only after A
 *     released it.
 *  2. 8 threads each write 2,000 groups of 3 lines to stdout, each group
 *     inside flockfile/funlockfile, spinning between the lines and between
 *     the characters of the last line (putc_unlocked), where the timer may
 *     preempt them, and yielding or sleeping inside some groups, so other
 *     threads run and wait for the lock. stdout goes to a temporary file, which
 *     the program reads back: every group is contiguous, no other thread's
 *     line inside it, and each thread's groups are all there, in order.
 * usage: flockfile_group [GROUPS_PER_THREAD]   (default 2000) */
#include <pthread.h>
#include <sched.h>

#include "check.h"
#include "storm.h"
#include "temp_file.h"

enum { THREADS = 8, LINE_LEN = 32 };

/* ---- 1. ftrylockfile / recursion / blocking, step by step ------------------- */

static pthread_mutex_t step_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t step_changed = PTHREAD_COND_INITIALIZER;
static int step;
static volatile int a_released;

static void set_step(int s) {
  CHECK_RC(pthread_mutex_lock(&step_lock), 0);
  step = s;
  CHECK_RC(pthread_cond_broadcast(&step_changed), 0);
  CHECK_RC(pthread_mutex_unlock(&step_lock), 0);
}

static void wait_step(int s) {
  CHECK_RC(pthread_mutex_lock(&step_lock), 0);
  while (step != s) CHECK_RC(pthread_cond_wait(&step_changed, &step_lock), 0);
  CHECK_RC(pthread_mutex_unlock(&step_lock), 0);
}

static void* holder_a(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  flockfile(stdout);
  set_step(1); /* B: try while A holds it */
  wait_step(2);
  /* The owner takes it again at once, twice, and gives back two levels. */
  CHECK_MSG(ftrylockfile(stdout) == 0, "the owner's ftrylockfile failed");
  flockfile(stdout);
  funlockfile(stdout);
  funlockfile(stdout);
  set_step(3); /* B: try again: A still holds its first level */
  wait_step(4);
  funlockfile(stdout);
  set_step(5); /* B: try now that it is free */
  wait_step(6);
  /* Blocking: A holds the lock and sleeps; B waits in flockfile meanwhile. */
  flockfile(stdout);
  set_step(7);
  usleep(20000);
  a_released = 1;
  funlockfile(stdout);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void* contender_b(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  wait_step(1);
  CHECK_MSG(ftrylockfile(stdout) != 0, "ftrylockfile succeeded while another thread held the lock");
  set_step(2);
  wait_step(3);
  CHECK_MSG(ftrylockfile(stdout) != 0,
            "ftrylockfile succeeded while the owner still held one recursion level");
  set_step(4);
  wait_step(5);
  CHECK_MSG(ftrylockfile(stdout) == 0, "ftrylockfile failed on a free lock");
  funlockfile(stdout);
  set_step(6);
  wait_step(7);
  int64_t start = now_ns();
  flockfile(stdout);
  CHECK_MSG(a_released, "flockfile returned while another thread held the lock");
  CHECK_MSG(now_ns() - start >= 10 * NS_PER_MS, "flockfile did not wait for the holder (%.1f ms)",
            (double)(now_ns() - start) / NS_PER_MS);
  funlockfile(stdout);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

/* ---- 2. groups of lines under the lock -------------------------------------- */

static long groups_per_thread;
static long preempted_inside[THREADS], switched_inside[THREADS];

/* "T3 G01234 1/3 ................\n": always LINE_LEN characters. */
static void format_line(char* buf, int t, long g, int part) {
  int n = snprintf(buf, LINE_LEN + 1, "T%d G%05ld %d/3 ", t, g, part);
  memset(buf + n, 'a' + t, (size_t)(LINE_LEN - 1 - n));
  buf[LINE_LEN - 1] = '\n';
  buf[LINE_LEN] = '\0';
}

/* Gives up the processor while holding the lock (a yield, or a sleep);
 * reports whether another thread ran meanwhile. */
static int switch_holding_lock(int t, useconds_t sleep_us) {
  storm_last_runner = t;
  if (sleep_us > 0)
    usleep(sleep_us);
  else
    sched_yield();
  return storm_last_runner != t;
}

static void* grouper(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int t = (int)(long)arg;
  uint64_t rng = storm_seed(t);
  char line[LINE_LEN + 1];
  for (long g = 0; g < groups_per_thread; g++) {
    flockfile(stdout);
    format_line(line, t, g, 1);
    CHECK(fprintf(stdout, "%s", line) == LINE_LEN);
    preempted_inside[t] += storm_spin_watch(t, storm_rand(&rng) % 6000);
    if (g % 4 == 0) switched_inside[t] += switch_holding_lock(t, 0);
    format_line(line, t, g, 2);
    CHECK(fputs(line, stdout) >= 0);
    preempted_inside[t] += storm_spin_watch(t, storm_rand(&rng) % 6000);
    if (g % 16 == 1) switched_inside[t] += switch_holding_lock(t, 20);
    format_line(line, t, g, 3);
    for (int i = 0; i < LINE_LEN; i++) {
      CHECK(putc_unlocked(line[i], stdout) == (unsigned char)line[i]);
      if (i % 8 == 0) preempted_inside[t] += storm_spin_watch(t, storm_rand(&rng) % 500);
    }
    funlockfile(stdout);
    /* Spins outside the lock too, so that the holder sees it was switched
     * out (storm_last_runner changes only while some thread spins). */
    storm_spin_watch(t, storm_rand(&rng) % 2000);
    if (g % 50 == 0) sched_yield();
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void verify(FILE* f) {
  off_t size = (off_t)THREADS * groups_per_thread * 3 * LINE_LEN;
  char* data = read_whole_file(f, size, "stdout");
  long next[THREADS] = {0};
  char expected[LINE_LEN + 1];
  long n = 0;
  for (char* line = data; line < data + size; n++) {
    /* A group: three lines of one thread, parts 1, 2, 3. */
    int t = line[0] == 'T' ? line[1] - '0' : -1;
    CHECK_MSG(t >= 0 && t < THREADS, "group %ld does not start with a thread's line: '%.*s'", n,
              LINE_LEN - 1, line);
    for (int part = 1; part <= 3; part++, line += LINE_LEN) {
      format_line(expected, t, next[t], part);
      CHECK_MSG(memcmp(line, expected, LINE_LEN) == 0,
                "group %ld (thread %d's group %ld) line %d is '%.*s', want '%.*s'", n, t, next[t],
                part, LINE_LEN - 1, line, LINE_LEN - 1, expected);
    }
    next[t]++;
  }
  for (int t = 0; t < THREADS; t++)
    CHECK_MSG(next[t] == groups_per_thread, "thread %d: %ld groups, want %ld", t, next[t],
              groups_per_thread);
  free(data);
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  groups_per_thread = storm_arg(argc, argv, 1, 2000, 99999);
  int64_t start = now_ns();

  /* stdout goes to a temporary file until the end, with a buffer small
   * enough to be flushed inside groups too. */
  FILE* out = temp_file("flockfile_group");
  int saved_stdout = redirect_stdout(out, 1024);

  pthread_t a, b;
  CHECK_RC(pthread_create(&b, NULL, contender_b, NULL), 0);
  CHECK_RC(pthread_create(&a, NULL, holder_a, NULL), 0);
  CHECK_RC(pthread_join(a, NULL), 0);
  CHECK_RC(pthread_join(b, NULL), 0);
  int64_t steps_done = now_ns();

  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++) CHECK_RC(pthread_create(&t[i], NULL, grouper, (void*)i), 0);
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_join(t[i], NULL), 0);

  restore_stdout(saved_stdout);
  verify(out);
  fclose(out);
  long preempted = 0, switched = 0;
  for (int i = 0; i < THREADS; i++) {
    preempted += preempted_inside[i];
    switched += switched_inside[i];
  }
  CHECK_MSG(switched > 0, "no other thread ever ran while one held the lock");
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "flockfile_group: ftrylockfile fails for others and succeeds for the owner, flockfile "
      "waits for the holder (%.0f ms); %d threads x %ld groups of 3 lines in %.0f ms, others "
      "ran %ld times while a thread held the lock and yielded or slept (%ld times while it "
      "spun): every group contiguous and in order\n",
      (double)(steps_done - start) / NS_PER_MS, THREADS, groups_per_thread,
      (double)(now_ns() - steps_done) / NS_PER_MS, switched, preempted);
  return 0;
}
