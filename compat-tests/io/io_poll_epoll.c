/* Waiting for readiness while other user threads run. One thread waits in
 * poll() (no timeout) on an eventfd and a never-ready pipe, another in
 * epoll_wait() (no timeout) on its own level-triggered epoll instance
 * watching the same eventfd; a third thread writes the eventfd after 50 ms.
 * Both return with exactly the eventfd ready, after the write, and a spinner
 * (no library calls) advanced while each waited; the counter is read only
 * after both returned. Then: poll and epoll_wait with a 30 ms timeout on a
 * never-ready fd return 0 no earlier than 30 ms; select() on a pipe woken by
 * another thread's write; select() with a timeout returns 0 with its sets
 * cleared; ppoll and pselect the same way once each. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>

#include "check.h"
#include "spinner.h"

#define EPOLL_TAG 0x5eed5eedULL

static int efd;
static int quiet[2]; /* a pipe nobody writes: never readable */
static atomic_int waiters_started;
static atomic_llong written_at_ns;

struct waiter_result {
  int rc;
  int err;
  long spins_before, spins_after;
  int64_t returned_at_ns;
  struct pollfd fds[2];     /* poll */
  struct epoll_event ev[4]; /* epoll_wait */
};

static void* poll_waiter(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct waiter_result* r = arg;
  r->fds[0] = (struct pollfd){quiet[0], POLLIN, 0};
  r->fds[1] = (struct pollfd){efd, POLLIN, 0};
  r->spins_before = atomic_load(&spins);
  atomic_fetch_add(&waiters_started, 1);
  errno = 0;
  r->rc = poll(r->fds, 2, -1);
  r->err = errno;
  r->returned_at_ns = now_ns();
  r->spins_after = atomic_load(&spins);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void* epoll_waiter(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct waiter_result* r = arg;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  CHECK_MSG(ep >= 0, "epoll_create1: %s", strerror(errno));
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EPOLL_TAG};
  CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0);
  struct epoll_event never = {.events = EPOLLIN, .data.u64 = 1};
  CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, quiet[0], &never) == 0);
  r->spins_before = atomic_load(&spins);
  atomic_fetch_add(&waiters_started, 1);
  errno = 0;
  r->rc = epoll_wait(ep, r->ev, 4, -1);
  r->err = errno;
  r->returned_at_ns = now_ns();
  r->spins_after = atomic_load(&spins);
  /* Level-triggered and still unread: reported again at once. */
  struct epoll_event again[4];
  CHECK_MSG(epoll_wait(ep, again, 4, 0) == 1 && again[0].data.u64 == EPOLL_TAG,
            "level-triggered eventfd not reported again");
  CHECK(close(ep) == 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void* event_writer(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  while (atomic_load(&waiters_started) < 2) usleep(1000);
  usleep(50 * 1000);
  atomic_store(&written_at_ns, now_ns());
  uint64_t one = 7;
  CHECK(write(efd, &one, sizeof one) == sizeof one);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_poll_and_epoll_woken(void) {
  efd = eventfd(0, EFD_CLOEXEC);
  CHECK_MSG(efd >= 0, "eventfd: %s", strerror(errno));
  struct waiter_result pr, er;
  memset(&pr, 0, sizeof pr);
  memset(&er, 0, sizeof er);
  pthread_t p, e, w;
  CHECK_RC(pthread_create(&p, NULL, poll_waiter, &pr), 0);
  CHECK_RC(pthread_create(&e, NULL, epoll_waiter, &er), 0);
  CHECK_RC(pthread_create(&w, NULL, event_writer, NULL), 0);
  CHECK_RC(pthread_join(p, NULL), 0);
  CHECK_RC(pthread_join(e, NULL), 0);
  CHECK_RC(pthread_join(w, NULL), 0);
  int64_t written = atomic_load(&written_at_ns);

  CHECK_MSG(pr.rc == 1, "poll returned %d (%s), want 1", pr.rc, strerror(pr.err));
  CHECK_MSG(pr.fds[1].revents == POLLIN && pr.fds[0].revents == 0,
            "poll revents: eventfd %#x (want POLLIN), quiet pipe %#x (want 0)", pr.fds[1].revents,
            pr.fds[0].revents);
  CHECK_MSG(pr.returned_at_ns >= written, "poll returned %.1f ms before the write",
            (double)(written - pr.returned_at_ns) / NS_PER_MS);
  CHECK_MSG(pr.spins_after > pr.spins_before, "the spinner did not run while poll waited");

  CHECK_MSG(er.rc == 1, "epoll_wait returned %d (%s), want 1", er.rc, strerror(er.err));
  CHECK_MSG(er.ev[0].events == EPOLLIN && er.ev[0].data.u64 == EPOLL_TAG,
            "epoll_wait event %#x tag %#llx", er.ev[0].events,
            (unsigned long long)er.ev[0].data.u64);
  CHECK_MSG(er.returned_at_ns >= written, "epoll_wait returned %.1f ms before the write",
            (double)(written - er.returned_at_ns) / NS_PER_MS);
  CHECK_MSG(er.spins_after > er.spins_before, "the spinner did not run while epoll_wait waited");

  /* Nobody read the eventfd: it still holds the 7 written. */
  uint64_t value = 0;
  CHECK(read(efd, &value, sizeof value) == sizeof value);
  CHECK_MSG(value == 7, "eventfd counter %llu, want 7", (unsigned long long)value);
  struct pollfd now = {efd, POLLIN, 0};
  int rc = poll(&now, 1, 0);
  CHECK_MSG(rc == 0, "poll(timeout 0) on the read eventfd returned %d (%s), want 0", rc,
            rc < 0 ? strerror(errno) : "ready");
}

/* ---- timeouts on never-ready fds ------------------------------------------------ */

static void check_elapsed(const char* what, int64_t t0, int64_t want_ns) {
  int64_t took = now_ns() - t0;
  CHECK_MSG(took >= want_ns, "%s returned after %.3f ms, before its %.0f ms timeout", what,
            (double)took / NS_PER_MS, (double)want_ns / NS_PER_MS);
  CHECK_MSG(took < want_ns + 2000 * NS_PER_MS, "%s returned %.1f ms late", what,
            (double)(took - want_ns) / NS_PER_MS);
}

static void check_timeouts(void) {
  struct pollfd p = {quiet[0], POLLIN, 0};
  long spins0 = atomic_load(&spins);
  int64_t t0 = now_ns();
  int rc = poll(&p, 1, 30);
  CHECK_MSG(rc == 0 && p.revents == 0, "poll timeout: %d (%s) revents %#x", rc, strerror(errno),
            p.revents);
  check_elapsed("poll(30 ms)", t0, 30 * NS_PER_MS);
  CHECK_MSG(atomic_load(&spins) > spins0, "the spinner did not run during poll's timeout");

  int ep = epoll_create1(0);
  CHECK(ep >= 0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 9};
  CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, quiet[0], &ev) == 0);
  struct epoll_event out[2];
  spins0 = atomic_load(&spins);
  t0 = now_ns();
  rc = epoll_wait(ep, out, 2, 30);
  CHECK_MSG(rc == 0, "epoll_wait timeout: %d (%s)", rc, strerror(errno));
  check_elapsed("epoll_wait(30 ms)", t0, 30 * NS_PER_MS);
  CHECK_MSG(atomic_load(&spins) > spins0, "the spinner did not run during epoll_wait's timeout");
  CHECK(close(ep) == 0);

  fd_set rfds;
  FD_ZERO(&rfds);
  FD_SET(quiet[0], &rfds);
  struct timeval tv = {0, 30000};
  t0 = now_ns();
  rc = select(quiet[0] + 1, &rfds, NULL, NULL, &tv);
  CHECK_MSG(rc == 0, "select timeout: %d (%s)", rc, strerror(errno));
  check_elapsed("select(30 ms)", t0, 30 * NS_PER_MS);
  CHECK_MSG(!FD_ISSET(quiet[0], &rfds), "select left the quiet fd set after a timeout");
  CHECK_MSG(tv.tv_sec == 0 && tv.tv_usec == 0, "select left %ld.%06ld s in its timeout",
            (long)tv.tv_sec, (long)tv.tv_usec);

  p = (struct pollfd){quiet[0], POLLIN, 0};
  struct timespec ts = {0, 30 * NS_PER_MS};
  t0 = now_ns();
  rc = ppoll(&p, 1, &ts, NULL);
  CHECK_MSG(rc == 0, "ppoll timeout: %d (%s)", rc, strerror(errno));
  check_elapsed("ppoll(30 ms)", t0, 30 * NS_PER_MS);
}

/* ---- select / pselect / ppoll woken by another thread's write ---------------------- */

static int wake_pipe[2];
static atomic_llong last_write_ns;

static void* pipe_writer(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int count = (int)(long)arg;
  for (int i = 0; i < count; i++) {
    usleep(30 * 1000);
    atomic_store(&last_write_ns, now_ns());
    CHECK(write(wake_pipe[1], "w", 1) == 1);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void drain_one(void) {
  char c;
  CHECK(read(wake_pipe[0], &c, 1) == 1 && c == 'w');
}

static void check_select_woken(void) {
  CHECK(pipe(wake_pipe) == 0);
  pthread_t w;
  CHECK_RC(pthread_create(&w, NULL, pipe_writer, (void*)3L), 0);
  int nfds = (wake_pipe[0] > quiet[0] ? wake_pipe[0] : quiet[0]) + 1;

  /* select, no timeout */
  fd_set rfds;
  FD_ZERO(&rfds);
  FD_SET(quiet[0], &rfds);
  FD_SET(wake_pipe[0], &rfds);
  long spins0 = atomic_load(&spins);
  int64_t t0 = now_ns();
  int rc = select(nfds, &rfds, NULL, NULL, NULL);
  int64_t back = now_ns(), waited = back - t0;
  CHECK_MSG(rc == 1, "select returned %d (%s), want 1", rc, strerror(errno));
  CHECK_MSG(FD_ISSET(wake_pipe[0], &rfds) && !FD_ISSET(quiet[0], &rfds),
            "select: wrong fds left set");
  CHECK_MSG(back >= atomic_load(&last_write_ns), "select returned before the write");
  CHECK_MSG(atomic_load(&spins) > spins0, "the spinner did not run while select waited");
  drain_one();

  /* pselect with a timeout the write comes well before */
  FD_ZERO(&rfds);
  FD_SET(quiet[0], &rfds);
  FD_SET(wake_pipe[0], &rfds);
  struct timespec ts = {5, 0};
  sigset_t mask;
  sigemptyset(&mask);
  t0 = now_ns();
  rc = pselect(nfds, &rfds, NULL, NULL, &ts, &mask);
  back = now_ns();
  waited = back - t0;
  CHECK_MSG(rc == 1 && FD_ISSET(wake_pipe[0], &rfds) && !FD_ISSET(quiet[0], &rfds),
            "pselect returned %d (%s)", rc, strerror(errno));
  CHECK_MSG(back >= atomic_load(&last_write_ns) && waited < 2 * NS_PER_S,
            "pselect returned after %.1f ms, %s the write", (double)waited / NS_PER_MS,
            back >= atomic_load(&last_write_ns) ? "after" : "before");
  drain_one();

  /* ppoll likewise */
  struct pollfd p[2] = {{quiet[0], POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};
  t0 = now_ns();
  rc = ppoll(p, 2, &ts, &mask);
  back = now_ns();
  waited = back - t0;
  CHECK_MSG(rc == 1 && p[1].revents == POLLIN && p[0].revents == 0,
            "ppoll returned %d (%s), revents %#x %#x", rc, strerror(errno), p[0].revents,
            p[1].revents);
  CHECK_MSG(back >= atomic_load(&last_write_ns) && waited < 2 * NS_PER_S,
            "ppoll returned after %.1f ms, %s the write", (double)waited / NS_PER_MS,
            back >= atomic_load(&last_write_ns) ? "after" : "before");
  drain_one();

  CHECK_RC(pthread_join(w, NULL), 0);
  CHECK(close(wake_pipe[0]) == 0 && close(wake_pipe[1]) == 0);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  CHECK(pipe(quiet) == 0);
  pthread_t spin;
  CHECK_RC(pthread_create(&spin, NULL, spinner, NULL), 0);
  check_poll_and_epoll_woken();
  check_timeouts();
  check_select_woken();
  atomic_store(&stop_spinning, 1);
  CHECK_RC(pthread_join(spin, NULL), 0);
  CHECK(close(quiet[0]) == 0 && close(quiet[1]) == 0);
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "io_poll_epoll: poll and epoll_wait woken by an eventfd write from another thread, "
      "timeouts of poll/epoll_wait/select/ppoll not early, select/pselect/ppoll woken by a "
      "pipe write; the spinner ran throughout (%ld spins); %.0f ms in all\n",
      atomic_load(&spins), (double)(now_ns() - start) / NS_PER_MS);
  return 0;
}
