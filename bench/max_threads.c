/* max_threads: how many threads with default attributes can exist at once,
 * and what each costs in resident memory. Creates up to N threads (default
 * 1,000,000); each increments a counter under a mutex, then waits on a
 * condition variable for main's "go". Creation stops at the first
 * pthread_create failure (natively EAGAIN, near vm.max_map_count / 2 threads)
 * and the run goes on with the threads it has. Once all of them are waiting,
 * main reads VmRSS and VmHWM from /proc/self/status; then it broadcasts "go"
 * and joins them all. Prints one line:
 *   bench=max_threads threads=<created> kib_per_thread=<float> requested=<N>
 *     first_error=<errno name or none> rss_kib=<now> hwm_kib=<peak> baseline_rss_kib=<before>
 * kib_per_thread = (VmRSS now - VmRSS before the first create) / created.
 * Exits 0 if it created at least min(N, 1000) threads. */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "bench_common.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t arrived_cv = PTHREAD_COND_INITIALIZER; /* main waits: all arrived */
static pthread_cond_t go_cv = PTHREAD_COND_INITIALIZER;      /* threads wait: go */
static long arrived; /* threads that are waiting (or have waited) for go */
static long left;    /* threads that saw go */
static int go;

static void* waiter(void* arg) {
  pthread_mutex_lock(&lock);
  arrived++;
  pthread_cond_signal(&arrived_cv);
  while (!go) pthread_cond_wait(&go_cv, &lock);
  left++;
  pthread_mutex_unlock(&lock);
  return arg;
}

/* The value in kB of a "Name:  <n> kB" line of /proc/self/status, or -1. */
static long status_kib(const char* name) {
  FILE* f = fopen("/proc/self/status", "r");
  if (f == NULL) return -1;
  char line[256];
  long value = -1;
  size_t len = strlen(name);
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, name, len) == 0 && line[len] == ':') {
      value = strtol(line + len + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  return value;
}

int main(int argc, char** argv) {
  long requested = bench_iterations(argc, argv, 1000000);
  /* Untouched pages of the array cost nothing; a touched entry is 8 bytes a
   * thread, which stays in kib_per_thread (0.008 KiB). */
  pthread_t* threads = malloc((size_t)requested * sizeof *threads);
  if (threads == NULL) {
    fprintf(stderr, "bench: max_threads: no memory for %ld thread ids\n", requested);
    return 1;
  }

  long baseline = status_kib("VmRSS");
  long created = 0;
  int first_error = 0;
  while (created < requested) {
    int rc = pthread_create(&threads[created], NULL, waiter, (void*)(created + 1));
    if (rc != 0) {
      first_error = rc;
      break;
    }
    created++;
  }

  pthread_mutex_lock(&lock);
  while (arrived < created) pthread_cond_wait(&arrived_cv, &lock);
  long rss = status_kib("VmRSS");
  long hwm = status_kib("VmHWM");
  go = 1;
  pthread_cond_broadcast(&go_cv);
  pthread_mutex_unlock(&lock);

  long bad = 0;
  for (long i = 0; i < created; i++) {
    void* ret = NULL;
    bench_check(pthread_join(threads[i], &ret), "pthread_join");
    if (ret != (void*)(i + 1)) bad++;
  }
  free(threads);

  if (baseline < 0 || rss < 0 || hwm < 0) {
    fprintf(stderr, "bench: max_threads: cannot read VmRSS/VmHWM from /proc/self/status\n");
    return 1;
  }
  if (bad != 0 || left != created || arrived != created) {
    fprintf(stderr, "bench: max_threads: %ld threads, %ld arrived, %ld saw go, %ld bad results\n",
            created, arrived, left, bad);
    return 1;
  }
  const char* error = first_error ? strerrorname_np(first_error) : "none";
  printf(
      "bench=max_threads threads=%ld kib_per_thread=%.2f requested=%ld first_error=%s "
      "rss_kib=%ld hwm_kib=%ld baseline_rss_kib=%ld\n",
      created, created ? (double)(rss - baseline) / (double)created : 0.0, requested,
      error ? error : "unknown", rss, hwm, baseline);
  long needed = requested < 1000 ? requested : 1000;
  if (created < needed) {
    fprintf(stderr, "bench: max_threads: created %ld threads, needed at least %ld (%s)\n", created,
            needed, first_error ? strerror(first_error) : "no error");
    return 1;
  }
  return 0;
}
