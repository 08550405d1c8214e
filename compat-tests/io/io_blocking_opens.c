/* Calls that wait for another process, with nothing to poll, park only
 * their thread while a spinner (no library calls) runs:
 *   - the open of a FIFO for reading waits for a writer, which a child opens
 *     after 100 ms and writes a line to; the line arrives whole;
 *   - the open of a FIFO for writing waits for a reader (a child, 100 ms
 *     later), which gets the line written;
 *   - fcntl(F_SETLKW) waits for a record lock a child holds for 100 ms;
 *   - mq_timedreceive times out on an empty queue (ETIMEDOUT), then gets a
 *     message another thread sends 50 ms later.
 * In each the call returns only when it should, and the spinner advanced
 * meanwhile. */
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "spinner.h"

static char fifo[256];

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * NS_PER_MS};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* A child that, after 100 ms, opens the FIFO with `flags` and writes (or
 * reads and checks) one line. */
static pid_t fifo_partner(int flags) {
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid != 0) return pid;
  sleep_ms(100);
  int fd = open(fifo, flags);
  if (fd < 0) _exit(2);
  static const char line[] = "through the fifo\n";
  if (flags == O_WRONLY) _exit(write(fd, line, sizeof line - 1) == sizeof line - 1 ? 0 : 3);
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf);
  _exit(n == sizeof line - 1 && memcmp(buf, line, (size_t)n) == 0 ? 0 : 4);
}

static void reap(pid_t pid) {
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}

/* Runs `wait` while the spinner runs: it must take at least `min_ms`. */
static void while_spinning(const char* what, long min_ms, void (*wait)(void)) {
  long before = atomic_load(&spins);
  int64_t start = now_ns();
  wait();
  int64_t took_ms = (now_ns() - start) / NS_PER_MS;
  CHECK_MSG(took_ms >= min_ms, "%s returned after %lld ms", what, (long long)took_ms);
  CHECK_MSG(atomic_load(&spins) > before, "%s: the spinner did not run meanwhile", what);
}

static void open_for_reading(void) {
  pid_t writer = fifo_partner(O_WRONLY);
  int fd = open(fifo, O_RDONLY);
  CHECK_MSG(fd >= 0, "open: %s", strerror(errno));
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf);
  CHECK_MSG(n == 17 && memcmp(buf, "through the fifo\n", 17) == 0, "read %zd bytes", n);
  CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0); /* a blocking fd, as the program asked */
  close(fd);
  reap(writer);
}

static void open_for_writing(void) {
  pid_t reader = fifo_partner(O_RDONLY);
  int fd = open(fifo, O_WRONLY);
  CHECK_MSG(fd >= 0, "open: %s", strerror(errno));
  CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
  CHECK(write(fd, "through the fifo\n", 17) == 17);
  close(fd);
  reap(reader);
}

static int lock_fd;

static void record_lock(void) {
  int ready[2];
  CHECK(pipe(ready) == 0);
  pid_t holder = fork();
  CHECK(holder >= 0);
  struct flock fl = {0};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (holder == 0) {
    if (fcntl(lock_fd, F_SETLK, &fl) != 0) _exit(2);
    if (write(ready[1], "r", 1) != 1) _exit(3);
    sleep_ms(100);
    _exit(0); /* the lock goes with the process */
  }
  char c;
  CHECK(read(ready[0], &c, 1) == 1);
  CHECK(fcntl(lock_fd, F_SETLK, &fl) == -1); /* held by the child */
  CHECK_MSG(fcntl(lock_fd, F_SETLKW, &fl) == 0, "F_SETLKW: %s", strerror(errno));
  reap(holder);
  close(ready[0]);
  close(ready[1]);
}

static mqd_t mq;

static void* send_later(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  sleep_ms(50);
  CHECK(mq_send(mq, "hello", 5, 3) == 0);
  return NULL;
}

static void message_queue(void) {
  char buf[64];
  struct timespec soon;
  clock_gettime(CLOCK_REALTIME, &soon);
  soon.tv_nsec += 50 * NS_PER_MS;
  if (soon.tv_nsec >= NS_PER_S) {
    soon.tv_sec++;
    soon.tv_nsec -= NS_PER_S;
  }
  CHECK(mq_timedreceive(mq, buf, sizeof buf, NULL, &soon) == -1 && errno == ETIMEDOUT);
  pthread_t sender;
  CHECK_RC(pthread_create(&sender, NULL, send_later, NULL), 0);
  unsigned prio = 0;
  ssize_t n = mq_receive(mq, buf, sizeof buf, &prio);
  CHECK_MSG(n == 5 && memcmp(buf, "hello", 5) == 0 && prio == 3, "mq_receive: %zd", n);
  CHECK_RC(pthread_join(sender, NULL), 0);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  const char* dir = getenv("TMPDIR");
  dir = dir != NULL && *dir != '\0' ? dir : "/tmp";
  snprintf(fifo, sizeof fifo, "%s/io_blocking_opens.%d", dir, (int)getpid());
  unlink(fifo);
  CHECK(mkfifo(fifo, 0600) == 0);
  char path[300];
  snprintf(path, sizeof path, "%s/io_blocking_opens_lock.%d", dir, (int)getpid());
  lock_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  CHECK(lock_fd >= 0);
  unlink(path);
  char name[64];
  snprintf(name, sizeof name, "/io_blocking_opens.%d", (int)getpid());
  struct mq_attr attr = {0};
  attr.mq_maxmsg = 4;
  attr.mq_msgsize = 64;
  mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
  CHECK_MSG(mq != (mqd_t)-1, "mq_open: %s", strerror(errno));
  mq_unlink(name);

  pthread_t spin;
  CHECK_RC(pthread_create(&spin, NULL, spinner, NULL), 0);
  while_spinning("open of a FIFO for reading", 90, open_for_reading);
  while_spinning("open of a FIFO for writing", 90, open_for_writing);
  while_spinning("fcntl(F_SETLKW)", 90, record_lock);
  while_spinning("mq_timedreceive, mq_receive", 90, message_queue);
  atomic_store(&stop_spinning, 1);
  CHECK_RC(pthread_join(spin, NULL), 0);
  unlink(fifo);
  printf(
      "io_blocking_opens: FIFO opens, a record lock and a message queue waited in the scheduler\n");
  CHECK_ONE_KERNEL_THREAD();
  return 0;
}
