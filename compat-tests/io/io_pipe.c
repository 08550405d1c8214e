/* Blocking pipe I/O between user threads. A writer sends 1 MiB in chunks of
 * varying sizes (some larger than the pipe holds), with short sleeps and two
 * long stalls; a reader takes it with read() on the blocking fd, in reads of
 * varying sizes, and checks every byte and the total, then EOF. A spinner
 * that makes no library call runs all along: it must advance during every
 * read that waited, i.e. a blocked reader parks only itself. Then readv /
 * writev once, and an O_NONBLOCK pipe: read on empty and write on full fail
 * with EAGAIN at once instead of waiting.
 *
 * No signal handler is installed, so a blocking write must write everything
 * (a short count or EINTR would be the library's doing). */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/uio.h>

#include "check.h"
#include "spinner.h"
#include "storm.h"

#define TOTAL_BYTES (1 << 20)
#define BIG_CHUNK 100000 /* more than a pipe's default 64 KiB */
#define STALL_NS (30 * NS_PER_MS)

static int stream_fds[2];

static uint8_t pattern_byte(uint64_t offset) {
  uint64_t x = (offset + 1) * 0x9E3779B97F4A7C15ULL;
  return (uint8_t)((x >> 56) ^ (x >> 29));
}

/* ---- 1 MiB through a blocking pipe ----------------------------------------------- */

struct writer_stats {
  long chunks, big_chunks, naps;
};

static void* stream_writer(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct writer_stats* st = arg;
  static uint8_t chunk[BIG_CHUNK];
  uint64_t rng = storm_seed(1);
  uint64_t offset = 0;
  int stalled_midway = 0;

  usleep(STALL_NS / 1000); /* the reader waits on an empty pipe meanwhile */
  while (offset < TOTAL_BYTES) {
    size_t len = st->chunks % 11 == 5 ? BIG_CHUNK : 1 + storm_rand(&rng) % 8192;
    if (len > TOTAL_BYTES - offset) len = TOTAL_BYTES - offset;
    for (size_t i = 0; i < len; i++) chunk[i] = pattern_byte(offset + i);
    ssize_t n = write(stream_fds[1], chunk, len);
    CHECK_MSG(n == (ssize_t)len,
              "blocking write of %zu bytes at offset %llu returned %zd (%s); with no signal "
              "handler it must write everything",
              len, (unsigned long long)offset, n, n < 0 ? strerror(errno) : "short write");
    offset += len;
    st->chunks++;
    if (len == BIG_CHUNK) st->big_chunks++;
    if (!stalled_midway && offset >= TOTAL_BYTES / 2) {
      stalled_midway = 1;
      usleep(STALL_NS / 1000); /* the reader drains the pipe and waits again */
    } else if (st->chunks % 16 == 0) {
      usleep(100 + (unsigned)(storm_rand(&rng) % 500));
      st->naps++;
    }
  }
  CHECK(close(stream_fds[1]) == 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

struct reader_stats {
  long reads, waits, waits_with_spins;
  int64_t longest_wait_ns;
};

static void* stream_reader(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct reader_stats* st = arg;
  static uint8_t buf[BIG_CHUNK + 1000];
  uint64_t rng = storm_seed(2);
  uint64_t offset = 0;
  for (;;) {
    size_t want = st->reads % 7 == 3 ? sizeof buf : 1 + storm_rand(&rng) % 16384;
    long spins0 = atomic_load(&spins);
    int64_t t0 = now_ns();
    ssize_t n = read(stream_fds[0], buf, want);
    int64_t waited = now_ns() - t0;
    long spins1 = atomic_load(&spins);
    CHECK_MSG(n >= 0, "read of %zu at offset %llu: %s", want, (unsigned long long)offset,
              strerror(errno));
    st->reads++;
    /* A read that took this long waited for the writer. The spinner, which
     * never blocks, must have run during the long waits (the writer's two
     * stalls); shorter ones are only counted, as the machine itself may
     * hold the process off the CPU for a few ms. */
    if (waited >= 5 * NS_PER_MS) {
      st->waits++;
      if (spins1 > spins0) st->waits_with_spins++;
      CHECK_MSG(spins1 > spins0 || waited < STALL_NS / 2,
                "read waited %.1f ms for data, but the spinner did not run meanwhile: the "
                "blocked read stalled every other thread",
                (double)waited / NS_PER_MS);
      if (waited > st->longest_wait_ns) st->longest_wait_ns = waited;
    }
    if (n == 0) break;
    CHECK_MSG((size_t)n <= want, "read returned %zd for a %zu-byte buffer", n, want);
    CHECK_MSG(offset + (size_t)n <= TOTAL_BYTES, "read past the end: %llu + %zd",
              (unsigned long long)offset, n);
    for (ssize_t i = 0; i < n; i++) {
      CHECK_MSG(buf[i] == pattern_byte(offset + (uint64_t)i),
                "byte at offset %llu is %#x, want %#x", (unsigned long long)(offset + (uint64_t)i),
                buf[i], pattern_byte(offset + (uint64_t)i));
    }
    offset += (uint64_t)n;
  }
  CHECK_MSG(offset == TOTAL_BYTES, "EOF after %llu bytes, want %d", (unsigned long long)offset,
            TOTAL_BYTES);
  CHECK(close(stream_fds[0]) == 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

/* ---- readv / writev once ------------------------------------------------------------ */

static int vec_fds[2];
static const char vec_parts[3][16] = {"scatter", "-gather ", "over a pipe!"};
static atomic_long vec_spins_before_write;
static atomic_llong vec_written_at_ns;

static void* vec_writer(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(20 * 1000); /* the reader is in readv by now */
  atomic_store(&vec_spins_before_write, atomic_load(&spins));
  atomic_store(&vec_written_at_ns, now_ns());
  struct iovec iov[3];
  for (int i = 0; i < 3; i++) {
    iov[i].iov_base = (void*)vec_parts[i];
    iov[i].iov_len = strlen(vec_parts[i]);
  }
  ssize_t n = writev(vec_fds[1], iov, 3);
  CHECK_MSG(n == 27, "writev returned %zd (%s), want 27", n, n < 0 ? strerror(errno) : "");
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_readv_writev(void) {
  CHECK(pipe(vec_fds) == 0);
  pthread_t w;
  CHECK_RC(pthread_create(&w, NULL, vec_writer, NULL), 0);
  char a[5], b[10], c[40];
  memset(c, 0, sizeof c);
  struct iovec iov[3] = {{a, sizeof a}, {b, sizeof b}, {c, sizeof c}};
  long spins0 = atomic_load(&spins);
  ssize_t n = readv(vec_fds[0], iov, 3);
  int64_t back = now_ns();
  CHECK_MSG(n == 27, "readv returned %zd (%s), want 27", n, n < 0 ? strerror(errno) : "");
  CHECK_MSG(back >= atomic_load(&vec_written_at_ns), "readv returned before the writev");
  CHECK_MSG(atomic_load(&vec_spins_before_write) > spins0,
            "the spinner did not run while readv waited");
  CHECK(memcmp(a, "scatt", 5) == 0);
  CHECK(memcmp(b, "er-gather ", 10) == 0);
  CHECK_MSG(strcmp(c, "over a pipe!") == 0, "third buffer holds '%s'", c);
  CHECK_RC(pthread_join(w, NULL), 0);
  CHECK(close(vec_fds[0]) == 0 && close(vec_fds[1]) == 0);
}

/* ---- O_NONBLOCK: EAGAIN at once -------------------------------------------------- */

static int nb_fds[2];

/* Keeps the process multi-threaded (so reads go the parking way if they
 * would) and writes one byte late: a wrongly parked read would return it. */
static void* late_writer(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(150 * 1000);
  CHECK(write(nb_fds[1], "L", 1) == 1);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_nonblocking(void) {
  CHECK(pipe2(nb_fds, O_NONBLOCK) == 0);
  pthread_t late;
  CHECK_RC(pthread_create(&late, NULL, late_writer, NULL), 0);
  char buf[4096];

  int64_t t0 = now_ns();
  errno = 0;
  ssize_t n = read(nb_fds[0], buf, sizeof buf);
  int err = errno;
  int64_t took = now_ns() - t0;
  CHECK_MSG(n == -1 && err == EAGAIN,
            "read on an empty O_NONBLOCK pipe returned %zd, errno %d (%s); want -1, EAGAIN", n, err,
            strerror(err));
  CHECK_MSG(took < 50 * NS_PER_MS, "read on an empty O_NONBLOCK pipe took %.1f ms",
            (double)took / NS_PER_MS);

  /* Fill it: writes succeed until the pipe is full, then EAGAIN at once. */
  int capacity = fcntl(nb_fds[1], F_GETPIPE_SZ);
  CHECK_MSG(capacity > 0, "F_GETPIPE_SZ: %s", strerror(errno));
  memset(buf, 'x', sizeof buf);
  long filled = 0;
  t0 = now_ns();
  for (;;) {
    n = write(nb_fds[1], buf, sizeof buf);
    if (n < 0) break;
    filled += n;
    CHECK_MSG(filled <= capacity, "wrote %ld bytes into a %d-byte pipe", filled, capacity);
  }
  err = errno;
  took = now_ns() - t0;
  CHECK_MSG(err == EAGAIN, "write on a full O_NONBLOCK pipe: errno %d (%s), want EAGAIN", err,
            strerror(err));
  CHECK_MSG(filled == capacity, "the pipe took %ld bytes before EAGAIN, want %d", filled, capacity);
  CHECK_MSG(took < 50 * NS_PER_MS, "filling the O_NONBLOCK pipe took %.1f ms",
            (double)took / NS_PER_MS);

  long drained = 0;
  while ((n = read(nb_fds[0], buf, sizeof buf)) > 0) drained += n;
  CHECK_MSG(n == -1 && errno == EAGAIN, "draining ended with %zd (%s)", n, strerror(errno));
  CHECK_MSG(drained == capacity, "drained %ld bytes, want %d", drained, capacity);

  /* poll with a zero timeout is a check too: never waits. */
  struct pollfd p = {nb_fds[0], POLLIN, 0};
  int rc = poll(&p, 1, 0);
  CHECK_MSG(rc == 0, "poll(timeout 0) on an empty pipe returned %d (%s), want 0", rc,
            rc < 0 ? strerror(errno) : "ready");

  CHECK_RC(pthread_join(late, NULL), 0);
  n = read(nb_fds[0], buf, sizeof buf);
  CHECK_MSG(n == 1 && buf[0] == 'L', "the late byte: read returned %zd", n);
  CHECK(close(nb_fds[0]) == 0 && close(nb_fds[1]) == 0);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  pthread_t spin, reader, writer;
  struct writer_stats ws = {0, 0, 0};
  struct reader_stats rs = {0, 0, 0, 0};
  CHECK(pipe(stream_fds) == 0);
  CHECK_RC(pthread_create(&spin, NULL, spinner, NULL), 0);
  CHECK_RC(pthread_create(&reader, NULL, stream_reader, &rs), 0);
  CHECK_RC(pthread_create(&writer, NULL, stream_writer, &ws), 0);
  CHECK_RC(pthread_join(writer, NULL), 0);
  CHECK_RC(pthread_join(reader, NULL), 0);
  /* The two stalls make at least one read wait well over 5 ms. */
  CHECK_MSG(rs.waits >= 1 && rs.longest_wait_ns >= STALL_NS / 2,
            "no read waited for the writer's stalls (%ld waits, longest %.1f ms)", rs.waits,
            (double)rs.longest_wait_ns / NS_PER_MS);
  CHECK(ws.big_chunks >= 2);

  check_readv_writev();
  atomic_store(&stop_spinning, 1);
  CHECK_RC(pthread_join(spin, NULL), 0);

  check_nonblocking();

  CHECK_ONE_KERNEL_THREAD();
  printf(
      "io_pipe: 1 MiB in %ld writes (%ld of %d bytes, %ld naps) read back exactly in %ld reads; "
      "%ld reads waited (longest %.1f ms), the spinner ran during %ld of them (%ld spins); "
      "readv/writev ok; O_NONBLOCK EAGAIN at once; %.0f ms in all\n",
      ws.chunks, ws.big_chunks, BIG_CHUNK, ws.naps, rs.reads, rs.waits,
      (double)rs.longest_wait_ns / NS_PER_MS, rs.waits_with_spins, atomic_load(&spins),
      (double)(now_ns() - start) / NS_PER_MS);
  return 0;
}
