/* Blocking socket I/O between user threads on socketpair(AF_UNIX,
 * SOCK_STREAM). 10,000 request/reply messages (a length and a payload of
 * 1..300 bytes) with send/recv: each side waits in recv for the other, which
 * is a user thread, so every round needs the waiting thread parked, not the
 * kernel thread blocked. recvfrom/sendto once, recvmsg/sendmsg once (two
 * iovecs and an fd passed with SCM_RIGHTS), a blocking send larger than the
 * socket buffer that completes as the peer drains it (a spinner runs
 * meanwhile), EOF after shutdown, and MSG_DONTWAIT recv on empty / send on
 * full fail with EAGAIN at once. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "check.h"
#include "spinner.h"
#include "storm.h"

#define ROUNDS 10000
#define MAX_PAYLOAD 300

static int sv[2];

static uint8_t payload_byte(uint32_t seq, uint32_t i) {
  return (uint8_t)(seq * 31u + i * 7u + (seq >> 8));
}

/* Sends all of buf: a blocking send with no signal handler writes everything. */
static void send_all(int fd, const void* buf, size_t len) {
  ssize_t n = send(fd, buf, len, 0);
  CHECK_MSG(n == (ssize_t)len, "blocking send of %zu bytes returned %zd (%s)", len, n,
            n < 0 ? strerror(errno) : "short");
}

/* Receives exactly len bytes (a stream may deliver them in pieces). */
static void recv_all(int fd, void* buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = recv(fd, (char*)buf + got, len - got, 0);
    CHECK_MSG(n > 0, "recv returned %zd (%s) after %zu of %zu bytes", n,
              n < 0 ? strerror(errno) : "EOF", got, len);
    got += (size_t)n;
  }
}

struct message {
  uint32_t seq, len;
  uint8_t payload[MAX_PAYLOAD];
};

static void fill_message(struct message* m, uint32_t seq, uint64_t* rng) {
  m->seq = seq;
  m->len = 1 + (uint32_t)(storm_rand(rng) % MAX_PAYLOAD);
  for (uint32_t i = 0; i < m->len; i++) m->payload[i] = payload_byte(seq, i);
}

static void receive_message(int fd, uint32_t want_seq) {
  struct message m;
  recv_all(fd, &m, 8);
  CHECK_MSG(m.seq == want_seq, "got message %u, want %u", m.seq, want_seq);
  CHECK_MSG(m.len >= 1 && m.len <= MAX_PAYLOAD, "message %u: length %u", m.seq, m.len);
  recv_all(fd, m.payload, m.len);
  for (uint32_t i = 0; i < m.len; i++) {
    CHECK_MSG(m.payload[i] == payload_byte(m.seq, i), "message %u byte %u is %#x, want %#x", m.seq,
              i, m.payload[i], payload_byte(m.seq, i));
  }
}

/* ---- ping-pong ------------------------------------------------------------------- */

/* Side 1 sends the even messages and receives the odd ones; side 0 the reverse. */
static void* pong_side(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int side = (int)(long)arg;
  int fd = sv[side];
  uint64_t rng = storm_seed(side);
  struct message m;
  for (uint32_t seq = 0; seq < 2 * ROUNDS; seq++) {
    if ((int)(seq % 2) != side) {
      fill_message(&m, seq, &rng);
      send_all(fd, &m, 8 + m.len);
    } else {
      receive_message(fd, seq);
    }
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_ping_pong(void) {
  pthread_t a, b;
  CHECK_RC(pthread_create(&a, NULL, pong_side, (void*)0L), 0);
  CHECK_RC(pthread_create(&b, NULL, pong_side, (void*)1L), 0);
  CHECK_RC(pthread_join(a, NULL), 0);
  CHECK_RC(pthread_join(b, NULL), 0);
}

/* ---- recvfrom/sendto and recvmsg/sendmsg --------------------------------------------- */

static int passed_pipe[2];

static void* peer_sends_once(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(20 * 1000); /* the main thread waits in recvfrom */
  static const char dgram[] = "sendto over a stream";
  ssize_t n = sendto(sv[1], dgram, sizeof dgram, 0, NULL, 0);
  CHECK_MSG(n == (ssize_t)sizeof dgram, "sendto returned %zd (%s)", n, strerror(errno));

  usleep(20 * 1000); /* now it waits in recvmsg */
  CHECK(write(passed_pipe[1], "through the passed fd", 21) == 21);
  char head[] = "msg:", body[] = "two iovecs";
  struct iovec iov[2] = {{head, 4}, {body, 10}};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &passed_pipe[0], sizeof(int));
  n = sendmsg(sv[1], &msg, 0);
  CHECK_MSG(n == 14, "sendmsg returned %zd (%s)", n, strerror(errno));
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_from_to_msg(void) {
  CHECK(pipe(passed_pipe) == 0);
  pthread_t peer;
  CHECK_RC(pthread_create(&peer, NULL, peer_sends_once, NULL), 0);

  char buf[64];
  struct sockaddr_storage from;
  socklen_t fromlen = sizeof from;
  memset(&from, 0xAB, sizeof from);
  int64_t t0 = now_ns();
  ssize_t n = recvfrom(sv[0], buf, sizeof buf, 0, (struct sockaddr*)&from, &fromlen);
  int64_t waited = now_ns() - t0;
  CHECK_MSG(n == 21 && strcmp(buf, "sendto over a stream") == 0, "recvfrom returned %zd (%s)", n,
            n < 0 ? strerror(errno) : "");
  CHECK_MSG(waited >= 10 * NS_PER_MS, "recvfrom returned after %.1f ms, before the send",
            (double)waited / NS_PER_MS);
  CHECK_MSG(fromlen <= sizeof from, "recvfrom address length %u", (unsigned)fromlen);

  char head[4], body[32];
  memset(body, 0, sizeof body);
  struct iovec iov[2] = {{head, sizeof head}, {body, sizeof body}};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } control;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  t0 = now_ns();
  n = recvmsg(sv[0], &msg, 0);
  waited = now_ns() - t0;
  CHECK_MSG(n == 14, "recvmsg returned %zd (%s)", n, n < 0 ? strerror(errno) : "");
  CHECK_MSG(waited >= 10 * NS_PER_MS, "recvmsg returned after %.1f ms, before the send",
            (double)waited / NS_PER_MS);
  CHECK(memcmp(head, "msg:", 4) == 0 && strcmp(body, "two iovecs") == 0);
  CHECK_MSG((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0, "recvmsg flags %#x", msg.msg_flags);
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  CHECK_MSG(c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                c->cmsg_len == CMSG_LEN(sizeof(int)),
            "no SCM_RIGHTS control message");
  int got_fd;
  memcpy(&got_fd, CMSG_DATA(c), sizeof got_fd);
  CHECK_MSG(got_fd >= 0 && got_fd != passed_pipe[0], "passed fd %d", got_fd);
  char through[32] = {0};
  CHECK(read(got_fd, through, sizeof through - 1) == 21);
  CHECK_MSG(strcmp(through, "through the passed fd") == 0, "read '%s' from the passed fd", through);

  CHECK_RC(pthread_join(peer, NULL), 0);
  CHECK(close(got_fd) == 0 && close(passed_pipe[0]) == 0 && close(passed_pipe[1]) == 0);
}

/* ---- a send bigger than the socket buffer; EOF ------------------------------------ */

#define BULK_BYTES (4 << 20)

static uint8_t bulk_byte(size_t i) { return (uint8_t)(i ^ (i >> 9) ^ (i >> 17)); }

static atomic_long bulk_received;

static void* bulk_drainer(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(20 * 1000); /* the sender fills the buffer and waits in send */
  static uint8_t buf[50000];
  size_t total = 0;
  for (;;) {
    ssize_t n = recv(sv[1], buf, sizeof buf, 0);
    CHECK_MSG(n >= 0, "recv: %s", strerror(errno));
    if (n == 0) break;
    for (ssize_t i = 0; i < n; i++) {
      CHECK_MSG(buf[i] == bulk_byte(total + (size_t)i), "bulk byte %zu is %#x, want %#x",
                total + (size_t)i, buf[i], bulk_byte(total + (size_t)i));
    }
    total += (size_t)n;
    atomic_store(&bulk_received, (long)total);
  }
  CHECK_MSG(total == BULK_BYTES, "EOF after %zu bytes, want %d", total, BULK_BYTES);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_bulk_and_eof(void) {
  uint8_t* data = malloc(BULK_BYTES);
  CHECK(data != NULL);
  for (size_t i = 0; i < BULK_BYTES; i++) data[i] = bulk_byte(i);
  pthread_t spin, drain;
  CHECK_RC(pthread_create(&spin, NULL, spinner, NULL), 0);
  CHECK_RC(pthread_create(&drain, NULL, bulk_drainer, NULL), 0);
  long spins0 = atomic_load(&spins);
  send_all(sv[0], data, BULK_BYTES);
  CHECK_MSG(atomic_load(&spins) > spins0, "the spinner did not run while send waited");
  CHECK_MSG(atomic_load(&bulk_received) > 0, "send completed before the peer read anything");
  CHECK(shutdown(sv[0], SHUT_WR) == 0);
  CHECK_RC(pthread_join(drain, NULL), 0);
  atomic_store(&stop_spinning, 1);
  CHECK_RC(pthread_join(spin, NULL), 0);
  free(data);
}

/* ---- MSG_DONTWAIT ---------------------------------------------------------------- */

static void* idle_peer(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(100 * 1000); /* only keeps the process multi-threaded */
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_dontwait(void) {
  int dv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, dv) == 0);
  pthread_t idle;
  CHECK_RC(pthread_create(&idle, NULL, idle_peer, NULL), 0);
  char buf[4096];
  int64_t t0 = now_ns();
  errno = 0;
  ssize_t n = recv(dv[0], buf, sizeof buf, MSG_DONTWAIT);
  int err = errno;
  int64_t took = now_ns() - t0;
  CHECK_MSG(n == -1 && err == EAGAIN, "MSG_DONTWAIT recv on empty: %zd, errno %d (%s)", n, err,
            strerror(err));
  CHECK_MSG(took < 50 * NS_PER_MS, "MSG_DONTWAIT recv took %.1f ms", (double)took / NS_PER_MS);

  memset(buf, 'z', sizeof buf);
  long sent = 0;
  t0 = now_ns();
  while ((n = send(dv[0], buf, sizeof buf, MSG_DONTWAIT)) > 0) sent += n;
  err = errno;
  took = now_ns() - t0;
  CHECK_MSG(n == -1 && err == EAGAIN, "MSG_DONTWAIT send on full: %zd, errno %d (%s)", n, err,
            strerror(err));
  CHECK_MSG(sent > 0 && took < 200 * NS_PER_MS, "filled %ld bytes in %.1f ms", sent,
            (double)took / NS_PER_MS);

  long drained = 0;
  while ((n = recv(dv[1], buf, sizeof buf, MSG_DONTWAIT)) > 0) drained += n;
  CHECK_MSG(n == -1 && errno == EAGAIN && drained == sent, "drained %ld of %ld bytes, then %zd",
            drained, sent, n);
  CHECK_RC(pthread_join(idle, NULL), 0);
  CHECK(close(dv[0]) == 0 && close(dv[1]) == 0);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  int64_t t0 = now_ns();
  check_ping_pong();
  double ping_ms = (double)(now_ns() - t0) / NS_PER_MS;
  check_from_to_msg();
  check_bulk_and_eof();
  char c;
  CHECK_MSG(recv(sv[1], &c, 1, 0) == 0, "no EOF after the peer's shutdown");
  CHECK(close(sv[0]) == 0 && close(sv[1]) == 0);
  check_dontwait();
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "io_socketpair: %d request/reply rounds in %.0f ms; recvfrom/sendto, recvmsg/sendmsg "
      "(SCM_RIGHTS) ok; %d MiB send drained by a peer thread while a spinner ran (%ld spins); "
      "MSG_DONTWAIT EAGAIN at once; %.0f ms in all\n",
      ROUNDS, ping_ms, BULK_BYTES >> 20, atomic_load(&spins),
      (double)(now_ns() - start) / NS_PER_MS);
  return 0;
}
