/* TCP over loopback between user threads. One thread waits in accept() on a
 * socket listening on 127.0.0.1 (ephemeral port) while another sleeps, then
 * connect()s (blocking), sends 100 KiB and closes; the acceptor receives it
 * all with a recv loop and checks every byte and the EOF. A spinner (no
 * library calls) must advance while accept waits. Both ends see the right
 * addresses, and connect leaves the socket's flags as they were. Then a
 * second connection taken with accept4(SOCK_NONBLOCK | SOCK_CLOEXEC), and a
 * connect to a bound port nobody listens on fails with ECONNREFUSED. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "check.h"
#include "spinner.h"

#define PAYLOAD_BYTES (100 * 1024)

static uint8_t payload_byte(size_t i) { return (uint8_t)((i * 7) ^ (i >> 8) ^ (i >> 13)); }

static int listener;
static struct sockaddr_in listen_addr;
static atomic_int client_port; /* the connector's local port, once connected */
static atomic_llong connect_called_at_ns;

static struct sockaddr_in loopback(uint16_t port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static int connect_to_listener(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK_MSG(fd >= 0, "socket: %s", strerror(errno));
  int flags0 = fcntl(fd, F_GETFL);
  atomic_store(&connect_called_at_ns, now_ns());
  int rc = connect(fd, (struct sockaddr*)&listen_addr, sizeof listen_addr);
  CHECK_MSG(rc == 0, "connect to 127.0.0.1:%d: %s", ntohs(listen_addr.sin_port), strerror(errno));
  int flags1 = fcntl(fd, F_GETFL);
  CHECK_MSG(flags1 == flags0, "connect changed the socket's flags from %#x to %#x", flags0, flags1);
  struct sockaddr_in local, peer;
  socklen_t len = sizeof local;
  CHECK(getsockname(fd, (struct sockaddr*)&local, &len) == 0);
  len = sizeof peer;
  CHECK(getpeername(fd, (struct sockaddr*)&peer, &len) == 0);
  CHECK_MSG(peer.sin_port == listen_addr.sin_port && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
            "connected to the wrong peer");
  atomic_store(&client_port, ntohs(local.sin_port));
  return fd;
}

static void* connector(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(30 * 1000); /* the acceptor waits in accept meanwhile */
  int fd = connect_to_listener();
  uint8_t* data = malloc(PAYLOAD_BYTES);
  CHECK(data != NULL);
  for (size_t i = 0; i < PAYLOAD_BYTES; i++) data[i] = payload_byte(i);
  /* In pieces of growing size, the last one bigger than the rest together. */
  size_t sent = 0, piece = 1;
  while (sent < PAYLOAD_BYTES) {
    size_t len = piece < PAYLOAD_BYTES - sent ? piece : PAYLOAD_BYTES - sent;
    ssize_t n = send(fd, data + sent, len, 0);
    CHECK_MSG(n == (ssize_t)len,
              "blocking send of %zu bytes at %zu returned %zd (%s); with no signal handler it "
              "must send everything",
              len, sent, n, n < 0 ? strerror(errno) : "short");
    sent += len;
    piece *= 3;
  }
  free(data);
  CHECK(close(fd) == 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

struct acceptor_result {
  long spins_before, spins_at_accept;
  int64_t accepted_at_ns;
  size_t received;
  long recvs;
};

static void* acceptor(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct acceptor_result* r = arg;
  struct sockaddr_in peer;
  socklen_t len = sizeof peer;
  memset(&peer, 0, sizeof peer);
  r->spins_before = atomic_load(&spins);
  int fd = accept(listener, (struct sockaddr*)&peer, &len);
  r->accepted_at_ns = now_ns();
  r->spins_at_accept = atomic_load(&spins);
  CHECK_MSG(fd >= 0, "accept: %s", strerror(errno));
  CHECK_MSG(len == sizeof peer && peer.sin_family == AF_INET &&
                peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
            "accept: peer address length %u family %d", (unsigned)len, peer.sin_family);
  CHECK_MSG((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0, "accepted socket is non-blocking");

  static uint8_t buf[70000];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    CHECK_MSG(n >= 0, "recv after %zu bytes: %s", r->received, strerror(errno));
    if (n == 0) break;
    r->recvs++;
    CHECK_MSG(r->received + (size_t)n <= PAYLOAD_BYTES, "more than %d bytes arrived",
              PAYLOAD_BYTES);
    for (ssize_t i = 0; i < n; i++) {
      CHECK_MSG(buf[i] == payload_byte(r->received + (size_t)i), "byte %zu is %#x, want %#x",
                r->received + (size_t)i, buf[i], payload_byte(r->received + (size_t)i));
    }
    r->received += (size_t)n;
  }
  /* The connector published its port before it sent anything. */
  CHECK_MSG(ntohs(peer.sin_port) == atomic_load(&client_port),
            "accept: peer port %d, the connector's is %d", ntohs(peer.sin_port),
            atomic_load(&client_port));
  CHECK(close(fd) == 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

/* ---- a second connection: accept4 flags -------------------------------------- */

static void* quick_connector(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(20 * 1000);
  int fd = connect_to_listener();
  CHECK(send(fd, "4", 1, 0) == 1);
  char c;
  CHECK_MSG(recv(fd, &c, 1, 0) == 1 && c == 'k', "no reply on the second connection");
  CHECK(close(fd) == 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_accept4(void) {
  pthread_t c;
  CHECK_RC(pthread_create(&c, NULL, quick_connector, NULL), 0);
  int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  CHECK_MSG(fd >= 0, "accept4: %s", strerror(errno));
  CHECK_MSG((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0, "accept4 lost SOCK_NONBLOCK");
  CHECK_MSG((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "accept4 lost SOCK_CLOEXEC");
  /* Non-blocking: recv is a check, not a wait. Poll for the byte instead. */
  char ch;
  ssize_t n;
  int tries = 0;
  while ((n = recv(fd, &ch, 1, 0)) < 0 && errno == EAGAIN) {
    CHECK_MSG(++tries < 2000, "the byte on the second connection never came");
    usleep(1000);
  }
  CHECK_MSG(n == 1 && ch == '4', "recv on the accept4 socket: %zd (%s)", n, strerror(errno));
  CHECK(send(fd, "k", 1, 0) == 1);
  CHECK_RC(pthread_join(c, NULL), 0);
  CHECK(close(fd) == 0);
}

/* ---- ECONNREFUSED ------------------------------------------------------------------ */

static void* idle_thread(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(50 * 1000); /* only keeps the process multi-threaded */
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_refused(void) {
  pthread_t idle;
  CHECK_RC(pthread_create(&idle, NULL, idle_thread, NULL), 0);
  int bound = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = loopback(0);
  CHECK(bind(bound, (struct sockaddr*)&a, sizeof a) == 0);
  socklen_t len = sizeof a;
  CHECK(getsockname(bound, (struct sockaddr*)&a, &len) == 0);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int flags0 = fcntl(fd, F_GETFL);
  errno = 0;
  int rc = connect(fd, (struct sockaddr*)&a, sizeof a);
  int err = errno;
  CHECK_MSG(rc == -1 && err == ECONNREFUSED,
            "connect to a port nobody listens on: %d, errno %d (%s); want ECONNREFUSED", rc, err,
            strerror(err));
  CHECK_MSG(fcntl(fd, F_GETFL) == flags0, "a failed connect changed the socket's flags");
  CHECK_RC(pthread_join(idle, NULL), 0);
  CHECK(close(fd) == 0 && close(bound) == 0);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  listener = socket(AF_INET, SOCK_STREAM, 0);
  CHECK_MSG(listener >= 0, "socket: %s", strerror(errno));
  listen_addr = loopback(0);
  CHECK_MSG(bind(listener, (struct sockaddr*)&listen_addr, sizeof listen_addr) == 0,
            "bind 127.0.0.1:0: %s", strerror(errno));
  socklen_t len = sizeof listen_addr;
  CHECK(getsockname(listener, (struct sockaddr*)&listen_addr, &len) == 0);
  CHECK(listen(listener, 4) == 0);

  struct acceptor_result ar;
  memset(&ar, 0, sizeof ar);
  pthread_t spin, acc, con;
  CHECK_RC(pthread_create(&spin, NULL, spinner, NULL), 0);
  CHECK_RC(pthread_create(&acc, NULL, acceptor, &ar), 0);
  CHECK_RC(pthread_create(&con, NULL, connector, NULL), 0);
  CHECK_RC(pthread_join(con, NULL), 0);
  CHECK_RC(pthread_join(acc, NULL), 0);
  atomic_store(&stop_spinning, 1);
  CHECK_RC(pthread_join(spin, NULL), 0);

  CHECK_MSG(ar.accepted_at_ns >= atomic_load(&connect_called_at_ns),
            "accept returned before connect was called");
  CHECK_MSG(ar.spins_at_accept > ar.spins_before, "the spinner did not run while accept waited");
  CHECK_MSG(ar.received == PAYLOAD_BYTES, "received %zu bytes, want %d", ar.received,
            PAYLOAD_BYTES);

  check_accept4();
  check_refused();
  CHECK(close(listener) == 0);
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "io_accept: accept waited while a spinner ran (%ld spins), connect/accept agree on "
      "addresses, %d bytes received exactly in %ld recvs then EOF; accept4 flags; "
      "ECONNREFUSED; %.0f ms in all\n",
      ar.spins_at_accept - ar.spins_before, PAYLOAD_BYTES, ar.recvs,
      (double)(now_ns() - start) / NS_PER_MS);
  return 0;
}
