/* 16 threads allocate and free blocks of random sizes (1 byte to 64 KiB, and
 * some of 1 MiB) with malloc, calloc, realloc, posix_memalign and
 * aligned_alloc, fill each with a pattern of its own and check the pattern
 * before every realloc and free; some blocks are freed by another thread than
 * the one that allocated them. Preemption every 100us lands between (never
 * inside) the calls, while the threads hold blocks of every kind.
 * At the end mallinfo2 and malloc_trim run.
 * Run with MALLOC_CHECK_=3: where glibc's malloc debugging library is part
 * of the program (glibc >= 2.34 reads MALLOC_CHECK_ only there), every call
 * also checks the heap; the summary says whether it was on.
 * usage: malloc_storm [MILLISECONDS]   (default 1500) */
#include <malloc.h>
#include <pthread.h>
#include <sched.h>

#include "check.h"
#include "storm.h"

enum { THREADS = 16, SLOTS = 128, MAILBOX = 64 };

struct block {
  unsigned char* p;
  size_t size;
  uint32_t seed;
};

static int64_t deadline;
static pthread_mutex_t mailbox_lock = PTHREAD_MUTEX_INITIALIZER;
static struct block mailbox[MAILBOX];
static int mailbox_count;
static long ops[THREADS], cross_frees[THREADS], big_blocks[THREADS], preempted_spins[THREADS];

static inline unsigned char pattern(uint32_t seed, size_t i) {
  return (unsigned char)(seed ^ (i * 2654435761u) >> 7);
}

static void fill(struct block* b) {
  for (size_t i = 0; i < b->size; i++) b->p[i] = pattern(b->seed, i);
}

/* Every byte of a small block; a 1 MiB block every 61 bytes and at its end. */
static void verify(const struct block* b, size_t len, int idx, const char* when) {
  size_t step = len > 65536 ? 61 : 1;
  for (size_t i = 0; i < len; i += step)
    CHECK_MSG(b->p[i] == pattern(b->seed, i),
              "thread %d: block %p of %zu bytes (seed %u): byte %zu is %#x, want %#x %s", idx,
              (void*)b->p, b->size, b->seed, i, b->p[i], pattern(b->seed, i), when);
  if (len > 0)
    CHECK_MSG(b->p[len - 1] == pattern(b->seed, len - 1),
              "thread %d: block of %zu bytes: last byte changed %s", idx, b->size, when);
}

static size_t random_size(uint64_t* rng, int idx) {
  uint64_t r = storm_rand(rng) % 1000;
  if (r < 600) return 1 + storm_rand(rng) % 256;
  if (r < 850) return 257 + storm_rand(rng) % (4096 - 256);
  if (r < 995) return 4097 + storm_rand(rng) % (65536 - 4096);
  big_blocks[idx]++;
  return (1u << 20) + storm_rand(rng) % 4096;
}

static void allocate(struct block* b, uint64_t* rng, int idx) {
  b->size = random_size(rng, idx);
  b->seed = (uint32_t)storm_rand(rng);
  switch (storm_rand(rng) % 5) {
    case 0:
      b->p = malloc(b->size);
      break;
    case 1: {
      b->p = calloc(1, b->size);
      CHECK_MSG(b->p != NULL, "calloc(%zu) failed", b->size);
      for (size_t i = 0; i < b->size; i++)
        CHECK_MSG(b->p[i] == 0, "thread %d: calloc(%zu): byte %zu is not zero", idx, b->size, i);
      break;
    }
    case 2: {
      size_t align = (size_t)16 << (storm_rand(rng) % 9); /* 16 B .. 4 KiB */
      if (storm_rand(rng) % 50 == 0) align = 65536;
      void* p = NULL;
      CHECK_RC(posix_memalign(&p, align, b->size), 0);
      CHECK_MSG(((uintptr_t)p & (align - 1)) == 0, "posix_memalign(%zu): %p", align, p);
      b->p = p;
      break;
    }
    case 3: {
      size_t align = (size_t)64 << (storm_rand(rng) % 7); /* 64 B .. 4 KiB */
      size_t size = (b->size + align - 1) / align * align;
      b->p = aligned_alloc(align, size);
      CHECK_MSG(((uintptr_t)b->p & (align - 1)) == 0, "aligned_alloc(%zu): %p", align, (void*)b->p);
      b->size = size;
      break;
    }
    default:
      b->p = realloc(NULL, b->size);
      break;
  }
  CHECK_MSG(b->p != NULL, "thread %d: allocating %zu bytes failed", idx, b->size);
  fill(b);
}

static void release(struct block* b, int idx) {
  verify(b, b->size, idx, "before free");
  free(b->p);
  b->p = NULL;
}

static void resize(struct block* b, uint64_t* rng, int idx) {
  verify(b, b->size, idx, "before realloc");
  size_t old = b->size;
  size_t size = random_size(rng, idx);
  unsigned char* p = realloc(b->p, size);
  CHECK_MSG(p != NULL, "thread %d: realloc(%zu -> %zu) failed", idx, old, size);
  b->p = p;
  b->size = size;
  verify(b, old < size ? old : size, idx, "after realloc (the kept part)");
  fill(b);
}

/* Hand a block to whichever thread comes next, or take one and free it. */
static void exchange(struct block* b, int idx) {
  struct block taken = {0};
  CHECK_RC(pthread_mutex_lock(&mailbox_lock), 0);
  if (b->p != NULL && mailbox_count < MAILBOX) {
    verify(b, b->size, idx, "before handing it over");
    mailbox[mailbox_count++] = *b;
    b->p = NULL;
  } else if (b->p == NULL && mailbox_count > 0) {
    taken = mailbox[--mailbox_count];
  }
  CHECK_RC(pthread_mutex_unlock(&mailbox_lock), 0);
  if (taken.p != NULL) {
    release(&taken, idx); /* most likely allocated by another thread */
    cross_frees[idx]++;
  }
}

static void* worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int idx = (int)(long)arg;
  uint64_t rng = storm_seed(idx);
  struct block* slots = calloc(SLOTS, sizeof *slots);
  CHECK(slots != NULL);
  long n = 0;
  while (now_ns() < deadline) {
    struct block* b = &slots[storm_rand(&rng) % SLOTS];
    uint64_t op = storm_rand(&rng) % 100;
    if (op < 5)
      exchange(b, idx);
    else if (b->p == NULL)
      allocate(b, &rng, idx);
    else if (op < 70)
      release(b, idx);
    else
      resize(b, &rng, idx);
    n++;
    preempted_spins[idx] += storm_spin_watch(idx, storm_rand(&rng) % 2000);
    if (n % 64 == 0) sched_yield();
  }
  for (int i = 0; i < SLOTS; i++)
    if (slots[i].p != NULL) release(&slots[i], idx);
  free(slots);
  ops[idx] = n;
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  deadline = storm_deadline(argc, argv, 1, start);
  /* Under glibc's malloc checking, malloc_usable_size is the size asked for. */
  void* probe = malloc(1);
  CHECK(probe != NULL);
  int checking = malloc_usable_size(probe) == 1;
  free(probe);

  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++) CHECK_RC(pthread_create(&t[i], NULL, worker, (void*)i), 0);
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_join(t[i], NULL), 0);
  while (mailbox_count > 0) release(&mailbox[--mailbox_count], -1);

  long total_ops = 0, total_cross = 0, total_big = 0, total_preempted = 0;
  for (int i = 0; i < THREADS; i++) {
    total_ops += ops[i];
    total_cross += cross_frees[i];
    total_big += big_blocks[i];
    total_preempted += preempted_spins[i];
  }
  struct mallinfo2 info = mallinfo2();
  malloc_trim(0);
  struct mallinfo2 trimmed = mallinfo2();
  CHECK_MSG(total_preempted > 0, "no thread was ever switched out between two calls");
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "malloc_storm: %d threads, %ld operations (%ld blocks of 1 MiB, %ld freed by another "
      "thread) in %.0f ms, %ld spins interrupted; heap %zu bytes (%zu after malloc_trim); "
      "malloc checking: %s\n",
      THREADS, total_ops, total_big, total_cross, (double)(now_ns() - start) / NS_PER_MS,
      total_preempted, info.arena + info.hblkhd, trimmed.arena + trimmed.hblkhd,
      checking ? "on" : "off");
  return 0;
}
