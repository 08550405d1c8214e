/* glibc's own cancellation points see the request. Each case is a thread
 * that pushes a cleanup handler and calls one function POSIX makes a
 * cancellation point:
 *   - blocked in it (a read of a pipe nobody writes, sleep, accept, the open
 *     of a FIFO for reading and for writing with nobody at the other end,
 *     poll, select, waitpid and waitid for a child that sleeps, pause,
 *     sigwait, nanosleep, a record lock another process holds, msgrcv and
 *     mq_receive on an empty queue) when the request comes: the request ends the wait;
 *   - or with the request already pending (it disabled cancellation until
 *     then) when it calls one that would not block (close, open, fsync,
 *     fdatasync, pread, pwrite, msync, an uncontended F_SETLKW, msgsnd, mq_send, system):
 *     the request is acted on in the call.
 * Either way the thread never returns from the call, its cleanup handler
 * runs and a join sees PTHREAD_CANCELED. */
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int pipe_fds[2], listener, lock_fd, file_fd, queue;
static mqd_t mq;
static char fifo_read[256], fifo_write[256];
static pid_t sleeper, lock_holder;
static void* mapping;
static volatile int about_to_call, request_made, cleaned;
/* Results nobody reads, and a count the compiler cannot know: built with
 * _FORTIFY_SOURCE, the program then calls __read_chk, __pread_chk and
 * __poll_chk. */
static volatile long sink;
static volatile size_t one = 1;

static void mark_cleaned(void* arg) {
  (void)arg;
  cleaned = 1;
}

static struct flock write_lock(void) {
  struct flock fl = {0};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  return fl;
}

/* Blocking cases. */
static void call_read(void) {
  char buf[8];
  sink = read(pipe_fds[0], buf, one);
}
static void call_sleep(void) { sleep(100); }
static void call_accept(void) { accept(listener, NULL, NULL); }
static void call_open_fifo_read(void) { open(fifo_read, O_RDONLY); }
static void call_open_fifo_write(void) { open(fifo_write, O_WRONLY); }
static void call_poll(void) {
  struct pollfd p[2] = {{pipe_fds[0], POLLIN, 0}, {-1, 0, 0}};
  poll(p, one, -1);
}
static void call_select(void) {
  fd_set r;
  FD_ZERO(&r);
  FD_SET(pipe_fds[0], &r);
  select(pipe_fds[0] + 1, &r, NULL, NULL, NULL);
}
static void call_waitpid(void) { waitpid(sleeper, NULL, 0); }
static void call_waitid(void) {
  siginfo_t info;
  waitid(P_PID, (id_t)sleeper, &info, WEXITED);
}
static void call_pause(void) { pause(); }
static void call_sigwait(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  int sig;
  sigwait(&set, &sig);
}
static void call_nanosleep(void) {
  struct timespec ts = {100, 0};
  nanosleep(&ts, NULL);
}
static void call_fcntl_setlkw_held(void) {
  struct flock fl = write_lock();
  fcntl(lock_fd, F_SETLKW, &fl);
}
static void call_msgrcv(void) {
  struct {
    long type;
    char text[8];
  } m;
  msgrcv(queue, &m, sizeof m.text, 0, 0);
}

static void call_mq_receive(void) {
  char m[64];
  mq_receive(mq, m, sizeof m, NULL);
}

/* Cases that do not block: the request is pending at the call. */
static void call_close(void) { close(dup(file_fd)); }
static void call_open(void) { open("/dev/null", O_RDONLY); }
static void call_fsync(void) { fsync(file_fd); }
static void call_fdatasync(void) { fdatasync(file_fd); }
static void call_pread(void) {
  char buf[8];
  sink = pread(file_fd, buf, one, 0);
}
static void call_pwrite(void) { sink = pwrite(file_fd, "x", 1, 0); }
static void call_msync(void) { msync(mapping, 4096, MS_SYNC); }
static void call_fcntl_setlkw_free(void) {
  struct flock fl = write_lock();
  fcntl(file_fd, F_SETLKW, &fl);
}
static void call_system(void) { sink = system("true"); }
static void call_mq_send(void) { mq_send(mq, "hi", 2, 0); }
static void call_msgsnd(void) {
  struct {
    long type;
    char text[8];
  } m = {1, "hi"};
  msgsnd(queue, &m, sizeof m.text, 0);
}

struct cancel_case {
  const char* name;
  void (*call)(void);
  int pending_first; /* the request comes before the call */
};

static const struct cancel_case cases[] = {
    {"read", call_read, 0},
    {"sleep", call_sleep, 0},
    {"accept", call_accept, 0},
    {"open of a FIFO for reading", call_open_fifo_read, 0},
    {"open of a FIFO for writing", call_open_fifo_write, 0},
    {"poll", call_poll, 0},
    {"select", call_select, 0},
    {"waitpid", call_waitpid, 0},
    {"waitid", call_waitid, 0},
    {"pause", call_pause, 0},
    {"sigwait", call_sigwait, 0},
    {"nanosleep", call_nanosleep, 0},
    {"fcntl(F_SETLKW) of a held lock", call_fcntl_setlkw_held, 0},
    {"msgrcv", call_msgrcv, 0},
    {"mq_receive", call_mq_receive, 0},
    {"close", call_close, 1},
    {"open", call_open, 1},
    {"fsync", call_fsync, 1},
    {"fdatasync", call_fdatasync, 1},
    {"pread", call_pread, 1},
    {"pwrite", call_pwrite, 1},
    {"msync", call_msync, 1},
    {"fcntl(F_SETLKW) of a free lock", call_fcntl_setlkw_free, 1},
    {"msgsnd", call_msgsnd, 1},
    {"mq_send", call_mq_send, 1},
    {"system", call_system, 1},
};

static void* run_case(void* arg) {
  const struct cancel_case* c = arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  if (c->pending_first) CHECK_RC(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL), 0);
  pthread_cleanup_push(mark_cleaned, NULL);
  about_to_call = 1;
  if (c->pending_first) {
    while (!request_made) usleep(1000);
    CHECK_RC(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL), 0); /* deferred: no action */
  }
  c->call();
  CHECK_MSG(0, "%s returned although cancelled", c->name);
  pthread_cleanup_pop(0);
  return NULL;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * NS_PER_MS};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static pid_t fork_sleeper(int lock) {
  int ready[2];
  CHECK(pipe(ready) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    if (lock) {
      struct flock fl = write_lock();
      if (fcntl(lock_fd, F_SETLK, &fl) != 0) _exit(2);
    }
    if (write(ready[1], "r", 1) != 1) _exit(3);
    for (;;) pause();
  }
  char c;
  CHECK(read(ready[0], &c, 1) == 1);
  close(ready[0]);
  close(ready[1]);
  return pid;
}

static void make_fifo(char* path, const char* tag) {
  const char* dir = getenv("TMPDIR");
  snprintf(path, 256, "%s/%s.%d", dir != NULL && *dir != '\0' ? dir : "/tmp", tag, (int)getpid());
  unlink(path);
  CHECK_MSG(mkfifo(path, 0600) == 0, "mkfifo(%s): %s", path, strerror(errno));
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  CHECK_RC(pthread_sigmask(SIG_BLOCK, &usr2, NULL), 0);
  CHECK(pipe(pipe_fds) == 0);
  listener = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK(listener >= 0);
  struct sockaddr_un addr = {0};
  addr.sun_family = AF_UNIX; /* an abstract name: nothing to clean up */
  snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "cancel_points.%d", (int)getpid());
  CHECK(bind(listener, (struct sockaddr*)&addr, sizeof addr) == 0);
  CHECK(listen(listener, 1) == 0);
  make_fifo(fifo_read, "cancel_points_r");
  make_fifo(fifo_write, "cancel_points_w");
  char lock_path[256];
  snprintf(lock_path, sizeof lock_path, "/tmp/cancel_points_lock.%d", (int)getpid());
  lock_fd = open(lock_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  CHECK(lock_fd >= 0);
  unlink(lock_path);
  snprintf(lock_path, sizeof lock_path, "/tmp/cancel_points_file.%d", (int)getpid());
  file_fd = open(lock_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  CHECK(file_fd >= 0);
  unlink(lock_path);
  CHECK(ftruncate(file_fd, 4096) == 0);
  mapping = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, file_fd, 0);
  CHECK(mapping != MAP_FAILED);
  queue = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  CHECK(queue >= 0);
  char mq_name[64];
  snprintf(mq_name, sizeof mq_name, "/cancel_points.%d", (int)getpid());
  struct mq_attr attr = {0};
  attr.mq_maxmsg = 4;
  attr.mq_msgsize = 64;
  mq = mq_open(mq_name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
  CHECK_MSG(mq != (mqd_t)-1, "mq_open: %s", strerror(errno));
  mq_unlink(mq_name);
  sleeper = fork_sleeper(0);
  lock_holder = fork_sleeper(1);

  int n = (int)(sizeof cases / sizeof cases[0]);
  for (int i = 0; i < n; ++i) {
    about_to_call = request_made = cleaned = 0;
    pthread_t t;
    CHECK_RC(pthread_create(&t, NULL, run_case, (void*)&cases[i]), 0);
    while (!about_to_call) usleep(1000);
    if (!cases[i].pending_first) sleep_ms(50); /* it blocks in the call meanwhile */
    CHECK_RC(pthread_cancel(t), 0);
    request_made = 1;
    void* result;
    CHECK_RC(pthread_join(t, &result), 0);
    CHECK_MSG(result == PTHREAD_CANCELED, "%s: the thread returned %p", cases[i].name, result);
    CHECK_MSG(cleaned, "%s: the cleanup handler did not run", cases[i].name);
  }

  kill(sleeper, SIGKILL);
  kill(lock_holder, SIGKILL);
  CHECK(waitpid(sleeper, NULL, 0) == sleeper);
  CHECK(waitpid(lock_holder, NULL, 0) == lock_holder);
  msgctl(queue, IPC_RMID, NULL);
  unlink(fifo_read);
  unlink(fifo_write);
  printf("cancel_points: %d calls cancelled\n", n);
  CHECK_ONE_KERNEL_THREAD();
  return 0;
}
