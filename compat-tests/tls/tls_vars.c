/* __thread variables with non-zero initial values, in the program, in a
 * shared library linked with it (compat_tlslib) and in two modules loaded
 * with dlopen while threads already run (compat_tlsmod: global- and
 * local-dynamic; compat_tlsmod_ie: initial-exec, which the loader must place
 * in the static TLS of every existing thread). 16 threads, 8 created before
 * the dlopen and 8 after, each start from the initial values (never main's)
 * and keep their own copies through preemptions, yields and sleeps.
 * usage: tls_vars MODULE IE_MODULE [MILLISECONDS]   (default 1500) */
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>

#include "check.h"
#include "storm.h"
#include "tls_vars.h"

enum { EARLY = 8, LATE = 8, THREADS = EARLY + LATE, MAIN = THREADS };

/* ---- the program's own TLS ------------------------------------------------- */
static int global_target;
static __thread int prog_counter = 4242;
static __thread long prog_array[4] = {1, 2, 3, 4};
static __thread struct {
  char tag[12];
  double ratio;
} prog_struct = {"prog-tls", 2.5};
static __thread int* prog_ptr = &global_target; /* an initial value the loader relocates */
static __thread int prog_bss;                   /* zero-initialised (.tbss) */

/* ---- the dlopen'ed modules ------------------------------------------------- */
static int64_t deadline;
static int modules_loaded; /* set (release) once the pointers below are valid */
static void *mod_handle, *ie_handle;
static tlsmod_addr_fn mod_gd_addr, mod_ld_addr, mod_bss_addr, mod_ie_addr;
static tlsmod_get_fn mod_ie_get;
static char ie_load_error[512];

/* Each thread's variable addresses (index MAIN: main's). */
enum { V_PROG, V_PROG_BSS, V_LIB, V_LIB_PRIVATE, V_MOD_GD, V_MOD_LD, V_MOD_BSS, V_MOD_IE, VARS };
static const char* const var_names[VARS] = {"prog_counter",   "prog_bss",  "tlslib_counter",
                                            "tlslib_private", "tlsmod_gd", "tlsmod_ld",
                                            "tlsmod_bss",     "tlsmod_ie"};
static const void* addresses[THREADS + 1][VARS];
static long rounds[THREADS], preempted_spins[THREADS];
static pthread_barrier_t all_recorded;

/* What a thread expects its variables to hold. */
struct expected {
  int prog_counter, prog_bss, lib_counter;
  long prog_array[4], lib_private_sum;
  int gd, ld0, ld1, bss, ie;
};

static void check_program_and_library(int idx, const struct expected* e, const char* when) {
  CHECK_MSG(prog_counter == e->prog_counter, "thread %d %s: prog_counter %d, want %d", idx, when,
            prog_counter, e->prog_counter);
  for (int i = 0; i < 4; i++)
    CHECK_MSG(prog_array[i] == e->prog_array[i], "thread %d %s: prog_array[%d] %ld, want %ld", idx,
              when, i, prog_array[i], e->prog_array[i]);
  CHECK_MSG(prog_bss == e->prog_bss, "thread %d %s: prog_bss %d, want %d", idx, when, prog_bss,
            e->prog_bss);
  CHECK_MSG(strcmp(prog_struct.tag, "prog-tls") == 0 && prog_struct.ratio == 2.5,
            "thread %d %s: prog_struct holds '%.12s' %g", idx, when, prog_struct.tag,
            prog_struct.ratio);
  CHECK_MSG(prog_ptr == &global_target, "thread %d %s: prog_ptr %p, want %p", idx, when,
            (void*)prog_ptr, (void*)&global_target);
  /* The program's direct (initial-exec) access and the library's own
   * (global-dynamic) access reach the same per-thread variable. */
  CHECK_MSG(tlslib_counter == e->lib_counter && tlslib_counter_get() == e->lib_counter,
            "thread %d %s: tlslib_counter %d directly, %d through the library, want %d", idx, when,
            tlslib_counter, tlslib_counter_get(), e->lib_counter);
  CHECK_MSG(&tlslib_counter == tlslib_counter_addr(),
            "thread %d %s: tlslib_counter at %p directly, %p through the library", idx, when,
            (void*)&tlslib_counter, (void*)tlslib_counter_addr());
  CHECK_MSG(tlslib_private_sum() == e->lib_private_sum,
            "thread %d %s: tlslib_private sums to %ld, want %ld", idx, when, tlslib_private_sum(),
            e->lib_private_sum);
  CHECK_MSG(strcmp(tlslib_name, TLSLIB_NAME_INIT) == 0, "thread %d %s: tlslib_name '%.16s'", idx,
            when, tlslib_name);
}

static void check_modules(int idx, const struct expected* e, const char* when) {
  int* gd = mod_gd_addr();
  int* ld = mod_ld_addr();
  int* bss = mod_bss_addr();
  CHECK_MSG(*gd == e->gd, "thread %d %s: tlsmod_gd %d, want %d", idx, when, *gd, e->gd);
  CHECK_MSG(ld[0] == e->ld0 && ld[1] == e->ld1, "thread %d %s: tlsmod_ld {%d, %d}, want {%d, %d}",
            idx, when, ld[0], ld[1], e->ld0, e->ld1);
  CHECK_MSG(*bss == e->bss, "thread %d %s: tlsmod_bss %d, want %d", idx, when, *bss, e->bss);
  if (mod_ie_addr != NULL) {
    int* ie = mod_ie_addr();
    CHECK_MSG(*ie == e->ie && mod_ie_get() == e->ie,
              "thread %d %s: tlsmod_ie %d (%d through its initial-exec access), want %d", idx, when,
              *ie, mod_ie_get(), e->ie);
  }
}

static void record_addresses(int idx) {
  addresses[idx][V_PROG] = &prog_counter;
  addresses[idx][V_PROG_BSS] = &prog_bss;
  addresses[idx][V_LIB] = &tlslib_counter;
  addresses[idx][V_LIB_PRIVATE] = tlslib_private_addr();
  addresses[idx][V_MOD_GD] = mod_gd_addr();
  addresses[idx][V_MOD_LD] = mod_ld_addr();
  addresses[idx][V_MOD_BSS] = mod_bss_addr();
  addresses[idx][V_MOD_IE] = mod_ie_addr != NULL ? mod_ie_addr() : NULL;
}

/* A switch: a call-free spin (where the timer lands), a yield or a sleep. */
static void switch_away(int idx, long round, uint64_t* rng) {
  preempted_spins[idx] += storm_spin_watch(idx, storm_rand(rng) % 100000);
  if (round % 8 == 0)
    usleep(10 + (useconds_t)(storm_rand(rng) % 100));
  else if (round % 2 == 0)
    sched_yield();
}

static void program_round(int idx, long round, struct expected* e, uint64_t* rng) {
  int d = idx + 1;
  prog_counter += d;
  e->prog_counter += d;
  prog_array[round % 4] += d;
  e->prog_array[round % 4] += d;
  prog_bss -= d;
  e->prog_bss -= d;
  if (round % 2 == 0)
    tlslib_counter += d; /* directly */
  else
    tlslib_counter_add(d); /* through the library */
  e->lib_counter += d;
  tlslib_private_add(d);
  e->lib_private_sum += 3 * d;
  switch_away(idx, round, rng);
  check_program_and_library(idx, e, "after a switch");
}

static void module_round(int idx, long round, struct expected* e, uint64_t* rng) {
  int d = idx + 1;
  *mod_gd_addr() += d;
  e->gd += d;
  int* ld = mod_ld_addr();
  ld[0] += d;
  ld[1] -= d;
  e->ld0 += d;
  e->ld1 -= d;
  *mod_bss_addr() += 2 * d;
  e->bss += 2 * d;
  if (mod_ie_addr != NULL) {
    *mod_ie_addr() += d;
    e->ie += d;
  }
  switch_away(idx, round, rng);
  check_modules(idx, e, "after a switch");
}

static int loaded(void) { return __atomic_load_n(&modules_loaded, __ATOMIC_ACQUIRE); }

static void* worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int idx = (int)(long)arg;
  uint64_t rng = storm_seed(idx);
  struct expected e = {.prog_counter = 4242,
                       .prog_bss = 0,
                       .lib_counter = TLSLIB_COUNTER_INIT,
                       .prog_array = {1, 2, 3, 4},
                       .lib_private_sum = 11 + 22 + 33,
                       .gd = TLSMOD_GD_INIT,
                       .ld0 = TLSMOD_LD_INIT0,
                       .ld1 = TLSMOD_LD_INIT1,
                       .bss = 0,
                       .ie = TLSMOD_IE_INIT};
  check_program_and_library(idx, &e, "at its start");
  long round = 0;
  /* An early thread's TLS was set up before the modules existed. */
  if (idx < EARLY)
    while (!loaded()) program_round(idx, round++, &e, &rng);
  /* The modules' variables start from their initial values here, whether
   * this thread existed when they were loaded or not. */
  check_modules(idx, &e, "at its first use of the modules");
  int* by_dlsym = dlsym(mod_handle, "tlsmod_gd");
  CHECK_MSG(by_dlsym == mod_gd_addr(), "thread %d: dlsym(tlsmod_gd) = %p, tlsmod_gd_addr() = %p",
            idx, (void*)by_dlsym, (void*)mod_gd_addr());
  while (now_ns() < deadline) {
    program_round(idx, round, &e, &rng);
    module_round(idx, round, &e, &rng);
    round++;
  }
  rounds[idx] = round;
  record_addresses(idx);
  /* Everyone stays alive until all have recorded, so no block is reused. */
  int rc = pthread_barrier_wait(&all_recorded);
  CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
  check_program_and_library(idx, &e, "at its end");
  check_modules(idx, &e, "at its end");
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void* must_dlsym(void* handle, const char* name) {
  void* p = dlsym(handle, name);
  CHECK_MSG(p != NULL, "dlsym(%s): %s", name, dlerror());
  return p;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_MSG(argc == 3 || argc == 4, "usage: %s MODULE IE_MODULE [MILLISECONDS]", argv[0]);
  int64_t start = now_ns();
  deadline = storm_deadline(argc, argv, 3, start);
  CHECK_RC(pthread_barrier_init(&all_recorded, NULL, THREADS), 0);

  /* Main's own copies change first: new threads must not start from them. */
  prog_counter = 5;
  prog_array[0] = -1;
  prog_bss = 6;
  tlslib_counter = 7;
  tlslib_private_add(1000);
  strcpy(tlslib_name, "main");

  pthread_t t[THREADS];
  for (long i = 0; i < EARLY; i++) CHECK_RC(pthread_create(&t[i], NULL, worker, (void*)i), 0);
  /* The early threads run for a quarter of the time before the dlopen. */
  usleep((useconds_t)((deadline - start) / 1000 / 4));

  mod_handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  CHECK_MSG(mod_handle != NULL, "dlopen(%s): %s", argv[1], dlerror());
  mod_gd_addr = (tlsmod_addr_fn)must_dlsym(mod_handle, "tlsmod_gd_addr");
  mod_ld_addr = (tlsmod_addr_fn)must_dlsym(mod_handle, "tlsmod_ld_addr");
  mod_bss_addr = (tlsmod_addr_fn)must_dlsym(mod_handle, "tlsmod_bss_addr");
  /* glibc reserves a little static TLS for initial-exec variables of
   * dlopen'ed objects; should this system have none, say so and go on. */
  ie_handle = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
  if (ie_handle != NULL) {
    mod_ie_addr = (tlsmod_addr_fn)must_dlsym(ie_handle, "tlsmod_ie_addr");
    mod_ie_get = (tlsmod_get_fn)must_dlsym(ie_handle, "tlsmod_ie_get");
  } else {
    snprintf(ie_load_error, sizeof ie_load_error, "%s", dlerror());
  }
  CHECK_MSG(*mod_gd_addr() == TLSMOD_GD_INIT && *mod_bss_addr() == 0 &&
                (mod_ie_addr == NULL || *mod_ie_addr() == TLSMOD_IE_INIT),
            "main: the modules' variables do not start from their initial values");
  *mod_gd_addr() = 8;
  mod_ld_addr()[0] = 9;
  *mod_bss_addr() = 10;
  if (mod_ie_addr != NULL) *mod_ie_addr() = 11;
  __atomic_store_n(&modules_loaded, 1, __ATOMIC_RELEASE);

  for (long i = EARLY; i < THREADS; i++) CHECK_RC(pthread_create(&t[i], NULL, worker, (void*)i), 0);
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_join(t[i], NULL), 0);

  /* Main's copies are as main left them. */
  CHECK_MSG(prog_counter == 5 && prog_array[0] == -1 && prog_bss == 6,
            "main's program variables changed: %d %ld %d", prog_counter, prog_array[0], prog_bss);
  CHECK_MSG(
      tlslib_counter == 7 && tlslib_private_sum() == 66 + 3000 && strcmp(tlslib_name, "main") == 0,
      "main's library variables changed: %d %ld '%.16s'", tlslib_counter, tlslib_private_sum(),
      tlslib_name);
  CHECK_MSG(*mod_gd_addr() == 8 && mod_ld_addr()[0] == 9 && *mod_bss_addr() == 10 &&
                (mod_ie_addr == NULL || *mod_ie_addr() == 11),
            "main's module variables changed");
  record_addresses(MAIN);
  for (int v = 0; v < VARS; v++) {
    if (v == V_MOD_IE && mod_ie_addr == NULL) continue;
    for (int i = 0; i <= THREADS; i++)
      for (int j = 0; j < i; j++)
        CHECK_MSG(addresses[i][v] != addresses[j][v], "%s: threads %d and %d share %p (%d: main)",
                  var_names[v], i, j, addresses[i][v], MAIN);
  }
  long total_rounds = 0, total_preempted = 0;
  for (int i = 0; i < THREADS; i++) {
    total_rounds += rounds[i];
    total_preempted += preempted_spins[i];
  }
  CHECK_MSG(total_preempted > 0, "no thread was ever switched out in the middle of a spin");
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "tls_vars: %d threads (%d before dlopen), %ld rounds in %.0f ms, %ld spins interrupted; "
      "program, linked-library and dlopen'ed TLS (global/local-dynamic%s) start from their "
      "initial values and stay per thread\n",
      THREADS, EARLY, total_rounds, (double)(now_ns() - start) / NS_PER_MS, total_preempted,
      mod_ie_addr != NULL ? ", initial-exec" : "");
  if (mod_ie_addr == NULL)
    printf("tls_vars: note: the initial-exec module did not load: %s\n", ie_load_error);
  return 0;
}
