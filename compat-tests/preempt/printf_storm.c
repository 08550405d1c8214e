/* 16 threads each write 10,000 whole lines, "T07 L01234 <payload>\n", to
 * stdout and to one shared FILE (a temporary file), with fprintf, printf,
 * fputs, puts, fwrite and lines built with fputc in a per-thread memory
 * stream, while preemption every 100us lands between the calls. stdout is
 * redirected (dup2) to a second temporary file, and small buffers make the
 * streams flush in the middle of lines. Afterwards the program reads both
 * files back: every line is intact and exactly formatted (no line inside
 * another), and each thread has exactly its 10,000 lines, in order.
 * usage: printf_storm [LINES_PER_THREAD]   (default 10000) */
#include <pthread.h>
#include <sched.h>

#include "check.h"
#include "storm.h"
#include "temp_file.h"

enum { THREADS = 16, PAYLOAD = 44 };
/* "T07 L01234 " + payload + "\n" */
#define LINE_LEN (4 + 7 + PAYLOAD + 1)

static long lines_per_thread;
static FILE* shared;
static long preempted_spins[THREADS];

static void make_payload(int t, char* out) {
  memset(out, 'a' + t, PAYLOAD - 4);
  memcpy(out + PAYLOAD - 4, "|end", 4);
  out[PAYLOAD] = '\0';
}

/* One whole line onto `f` with the method for line `l`. */
static void write_line(FILE* f, int t, long l, const char* payload, FILE* mem, char** membuf,
                       size_t* memlen) {
  char buf[LINE_LEN + 1];
  int len = snprintf(buf, sizeof buf, "T%02d L%05ld %s\n", t, l, payload);
  CHECK(len == LINE_LEN);
  int to_stdout = f == stdout;
  switch (l % 5) {
    case 0:
      if (to_stdout)
        CHECK(printf("T%02d L%05ld %s\n", t, l, payload) == LINE_LEN);
      else
        CHECK(fprintf(f, "T%02d L%05ld %s\n", t, l, payload) == LINE_LEN);
      break;
    case 1:
      if (to_stdout) {
        buf[LINE_LEN - 1] = '\0'; /* puts adds the newline */
        CHECK(puts(buf) >= 0);
      } else {
        CHECK(fputs(buf, f) >= 0);
      }
      break;
    case 2:
      CHECK(fwrite(buf, 1, LINE_LEN, f) == LINE_LEN);
      break;
    case 3:
      /* Built a character at a time with fputc in this thread's own memory
       * stream, then written whole. */
      CHECK(fseeko(mem, 0, SEEK_SET) == 0);
      for (int i = 0; i < LINE_LEN; i++) CHECK(fputc(buf[i], mem) == (unsigned char)buf[i]);
      CHECK(fflush(mem) == 0);
      CHECK_MSG(*memlen >= LINE_LEN && memcmp(*membuf, buf, LINE_LEN) == 0,
                "thread %d: the memory stream holds %zu bytes '%.*s'", t, *memlen, (int)*memlen,
                *membuf);
      CHECK(fwrite(*membuf, 1, LINE_LEN, f) == LINE_LEN);
      break;
    default:
      CHECK(fprintf(f, "%c%02d%c%c%05ld %.*s%c", 'T', t, ' ', 'L', l, PAYLOAD, payload, '\n') ==
            LINE_LEN);
      break;
  }
}

static void* worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int t = (int)(long)arg;
  uint64_t rng = storm_seed(t);
  char payload[PAYLOAD + 1];
  make_payload(t, payload);
  char* membuf = NULL;
  size_t memlen = 0;
  FILE* mem = open_memstream(&membuf, &memlen);
  CHECK(mem != NULL);
  for (long l = 0; l < lines_per_thread; l++) {
    write_line(stdout, t, l, payload, mem, &membuf, &memlen);
    preempted_spins[t] += storm_spin_watch(t, storm_rand(&rng) % 3000);
    write_line(shared, t, l, payload, mem, &membuf, &memlen);
    preempted_spins[t] += storm_spin_watch(t, storm_rand(&rng) % 3000);
    if (l % 100 == 0) sched_yield();
  }
  CHECK(fclose(mem) == 0);
  free(membuf);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

/* Reads `f` from its start and checks every line. */
static void verify(FILE* f, const char* what) {
  off_t size = (off_t)THREADS * lines_per_thread * LINE_LEN;
  char* data = read_whole_file(f, size, what);
  long next[THREADS] = {0};
  char payload[PAYLOAD + 1];
  long n = 0;
  for (char* line = data; line < data + size; line += LINE_LEN, n++) {
    /* Exactly ^T[0-9]{2} L[0-9]{5} <payload of that thread>$ */
    char* nl = memchr(line, '\n', (size_t)(data + size - line));
    CHECK_MSG(nl == line + LINE_LEN - 1, "%s line %ld: %ld characters, want %d: '%.*s'", what, n,
              nl != NULL ? (long)(nl - line) : -1L, LINE_LEN - 1, LINE_LEN * 2, line);
    int t = -1;
    long l = -1;
    int ok = line[0] == 'T' && line[3] == ' ' && line[4] == 'L' && line[10] == ' ';
    for (int i = 1; ok && i < 10; i++)
      if (i != 3 && i != 4 && (line[i] < '0' || line[i] > '9')) ok = 0;
    if (ok) {
      t = (line[1] - '0') * 10 + (line[2] - '0');
      l = strtol(line + 5, NULL, 10);
      ok = t < THREADS;
    }
    if (ok) {
      make_payload(t, payload);
      ok = memcmp(line + 11, payload, PAYLOAD) == 0;
    }
    CHECK_MSG(ok, "%s line %ld is not a whole line: '%.*s'", what, n, LINE_LEN - 1, line);
    CHECK_MSG(l == next[t], "%s line %ld: thread %d's line %ld, want its line %ld (in order)", what,
              n, t, l, next[t]);
    next[t]++;
  }
  for (int t = 0; t < THREADS; t++)
    CHECK_MSG(next[t] == lines_per_thread, "%s: thread %d wrote %ld lines, want %ld", what, t,
              next[t], lines_per_thread);
  free(data);
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  lines_per_thread = storm_arg(argc, argv, 1, 10000, 99999);
  int64_t start = now_ns();

  shared = temp_file("printf_storm-shared");
  CHECK(setvbuf(shared, NULL, _IOFBF, 1000) == 0);
  /* stdout goes to a file of its own until the end. */
  FILE* out = temp_file("printf_storm-stdout");
  int saved_stdout = redirect_stdout(out, 1500);

  pthread_t th[THREADS];
  for (long i = 0; i < THREADS; i++) CHECK_RC(pthread_create(&th[i], NULL, worker, (void*)i), 0);
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_join(th[i], NULL), 0);

  restore_stdout(saved_stdout);
  verify(out, "stdout");
  verify(shared, "shared file");
  fclose(out);
  fclose(shared);

  long total_preempted = 0;
  for (int i = 0; i < THREADS; i++) total_preempted += preempted_spins[i];
  CHECK_MSG(total_preempted > 0, "no thread was ever switched out between two lines");
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "printf_storm: %d threads x %ld lines to stdout and to a shared FILE in %.0f ms, %ld "
      "spins interrupted: every line whole, each thread's lines all there and in order\n",
      THREADS, lines_per_thread, (double)(now_ns() - start) / NS_PER_MS, total_preempted);
  return 0;
}
