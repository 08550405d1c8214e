/* stdio over a pipe between user threads: the writer wraps the write end with
 * fdopen and fputs 1,000 lines of varying length (some longer than the
 * stdio buffer), fflush after each, sleeping now and then; the reader wraps
 * the read end with fdopen and fgets them all, checking each exactly, then
 * EOF after the writer's fclose. The reader blocks inside libc's own read
 * (under fgets), which is not an interposed call: it must not stall the
 * process. Before line 500 the writer stalls 100 ms; a napper thread (1 ms
 * sleeps) must tick meanwhile, while the reader is blocked in fgets. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "napper.h"
#include "storm.h"

#define LINES 1000
#define STALL_LINE 500
#define STALL_US 100000
#define LONG_LINE 6000 /* more than a pipe FILE's 4 KiB buffer */

static int fds[2];
/* Line i without its newline, into buf; returns its length. */
static size_t make_line(int i, char* buf) {
  uint64_t rng = storm_seed(i);
  size_t len = i % 97 == 13 ? LONG_LINE : (size_t)(storm_rand(&rng) % 200);
  int head = snprintf(buf, 32, "line %04d:", i);
  for (size_t k = (size_t)head; k < len; k++) buf[k] = (char)('!' + (i * 7 + k * 13) % 94);
  if (len < (size_t)head) len = (size_t)head;
  buf[len] = '\0';
  return len;
}

static void* writer(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  FILE* out = fdopen(fds[1], "w");
  CHECK_MSG(out != NULL, "fdopen write end: %s", strerror(errno));
  static char line[LONG_LINE + 2];
  for (int i = 0; i < LINES; i++) {
    if (i == STALL_LINE) usleep(STALL_US); /* the reader waits in fgets */
    size_t len = make_line(i, line);
    line[len] = '\n';
    line[len + 1] = '\0';
    CHECK_MSG(fputs(line, out) >= 0, "fputs line %d: %s", i, strerror(errno));
    CHECK_MSG(fflush(out) == 0, "fflush line %d: %s", i, strerror(errno));
    if (i % 50 == 7) usleep(200 + (unsigned)(i % 5) * 100);
  }
  CHECK(fclose(out) == 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

struct reader_result {
  int lines;
  long naps_during_stall;
  int64_t stall_wait_ns;
};

static void* reader(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct reader_result* r = arg;
  FILE* in = fdopen(fds[0], "r");
  CHECK_MSG(in != NULL, "fdopen read end: %s", strerror(errno));
  static char got[LONG_LINE + 64], want[LONG_LINE + 2];
  for (int i = 0; i < LINES; i++) {
    long naps0 = atomic_load(&naps);
    int64_t t0 = now_ns();
    char* s = fgets(got, sizeof got, in);
    if (i == STALL_LINE) {
      r->stall_wait_ns = now_ns() - t0;
      r->naps_during_stall = atomic_load(&naps) - naps0;
    }
    CHECK_MSG(s == got, "fgets returned NULL at line %d (eof %d, error %d)", i, feof(in),
              ferror(in));
    size_t len = make_line(i, want);
    want[len] = '\n';
    want[len + 1] = '\0';
    CHECK_MSG(strcmp(got, want) == 0, "line %d differs: got %zu bytes '%.40s...', want %zu", i,
              strlen(got), got, len + 1);
    r->lines++;
  }
  CHECK_MSG(fgets(got, sizeof got, in) == NULL && feof(in) && !ferror(in),
            "no clean EOF after the last line");
  CHECK(fclose(in) == 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  CHECK(pipe(fds) == 0);
  struct reader_result rr = {0, 0, 0};
  pthread_t nap, rd, wr;
  CHECK_RC(pthread_create(&nap, NULL, napper, NULL), 0);
  CHECK_RC(pthread_create(&rd, NULL, reader, &rr), 0);
  CHECK_RC(pthread_create(&wr, NULL, writer, NULL), 0);
  CHECK_RC(pthread_join(wr, NULL), 0);
  CHECK_RC(pthread_join(rd, NULL), 0);
  atomic_store(&stop_napping, 1);
  CHECK_RC(pthread_join(nap, NULL), 0);

  CHECK_MSG(rr.lines == LINES, "read %d lines, want %d", rr.lines, LINES);
  CHECK_MSG(rr.stall_wait_ns >= 50 * NS_PER_MS, "fgets of line %d waited only %.1f ms", STALL_LINE,
            (double)rr.stall_wait_ns / NS_PER_MS);
  /* 1 ms naps over >= 50 ms: some ticks at least, however coarse the clock. */
  CHECK_MSG(rr.naps_during_stall >= 10,
            "the napper ticked %ld times in the %.1f ms the reader was blocked in fgets",
            rr.naps_during_stall, (double)rr.stall_wait_ns / NS_PER_MS);
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "io_stdio_pipe: %d lines through fputs/fgets on a pipe, then EOF; while fgets waited "
      "%.1f ms the napper ticked %ld times; %.0f ms in all\n",
      rr.lines, (double)rr.stall_wait_ns / NS_PER_MS, rr.naps_during_stall,
      (double)(now_ns() - start) / NS_PER_MS);
  return 0;
}
