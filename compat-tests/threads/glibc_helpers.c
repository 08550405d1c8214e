/* glibc's own helper threads, which it starts inside libc with its own
 * pthread_create: POSIX AIO (aio_write, aio_read, aio_suspend, lio_listio),
 * getaddrinfo_a and mq_notify with SIGEV_THREAD (its helper waits on a
 * netlink socket inside libc). Their results must be right and every helper must be a
 * thread of the one kernel thread. */
#include <aio.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netdb.h>
#include <pthread.h>
#include <semaphore.h>

#include "check.h"
#include "temp_file.h"

static void aio_one(struct aiocb* cb) {
  const struct aiocb* list[1] = {cb};
  while (aio_error(cb) == EINPROGRESS) CHECK(aio_suspend(list, 1, NULL) == 0 || errno == EINTR);
  CHECK_RC(aio_error(cb), 0);
}

static sem_t notified;
static ssize_t received;

static void on_message(union sigval v) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  char buf[64];
  received = mq_receive(*(mqd_t*)v.sival_ptr, buf, sizeof buf, NULL);
  CHECK(sem_post(&notified) == 0);
}

static void mq_notify_thread(void) {
  char name[64];
  snprintf(name, sizeof name, "/compat-glibc-helpers-%d", (int)getpid());
  struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 64};
  mqd_t q = mq_open(name, O_CREAT | O_RDWR, 0600, &attr);
  CHECK_MSG(q != (mqd_t)-1, "mq_open: %s", strerror(errno));
  CHECK(mq_unlink(name) == 0);
  CHECK(sem_init(&notified, 0, 0) == 0);
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD;
  sev.sigev_notify_function = on_message;
  sev.sigev_value.sival_ptr = &q;
  CHECK(mq_notify(q, &sev) == 0);
  CHECK(mq_send(q, "hello", 5, 0) == 0);
  while (sem_wait(&notified) != 0) CHECK(errno == EINTR);
  CHECK(received == 5);
  CHECK(mq_close(q) == 0);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int fd = fileno(temp_file("glibc_helpers"));
  char out[4096], in[4096];
  for (size_t i = 0; i < sizeof out; i++) out[i] = (char)('a' + i % 26);

  struct aiocb cb;
  memset(&cb, 0, sizeof cb);
  cb.aio_fildes = fd;
  cb.aio_buf = out;
  cb.aio_nbytes = sizeof out;
  CHECK_RC(aio_write(&cb), 0);
  aio_one(&cb);
  CHECK(aio_return(&cb) == (ssize_t)sizeof out);

  for (int round = 0; round < 5; round++) {
    memset(in, 0, sizeof in);
    cb.aio_buf = in;
    cb.aio_offset = round * 100;
    CHECK_RC(aio_read(&cb), 0);
    aio_one(&cb);
    CHECK(aio_return(&cb) == (ssize_t)sizeof out - round * 100);
    CHECK(memcmp(in, out + round * 100, sizeof out - (size_t)round * 100) == 0);
  }

  /* Several requests at once, waited for together. */
  char part[4][64];
  struct aiocb many[4];
  struct aiocb* list[4];
  for (int i = 0; i < 4; i++) {
    memset(&many[i], 0, sizeof many[i]);
    many[i].aio_fildes = fd;
    many[i].aio_buf = part[i];
    many[i].aio_nbytes = sizeof part[i];
    many[i].aio_offset = i * 1000;
    many[i].aio_lio_opcode = LIO_READ;
    list[i] = &many[i];
  }
  CHECK_RC(lio_listio(LIO_WAIT, list, 4, NULL), 0);
  for (int i = 0; i < 4; i++) {
    CHECK(aio_return(&many[i]) == 64);
    CHECK(memcmp(part[i], out + i * 1000, 64) == 0);
  }

  /* getaddrinfo_a: a numeric host, so no name service is needed. */
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_flags = AI_NUMERICHOST;
  hints.ai_socktype = SOCK_STREAM;
  struct gaicb req = {.ar_name = "127.0.0.1", .ar_request = &hints};
  struct gaicb* reqs[1] = {&req};
  CHECK_RC(getaddrinfo_a(GAI_WAIT, reqs, 1, NULL), 0);
  CHECK_RC(gai_error(&req), 0);
  CHECK(req.ar_result != NULL && req.ar_result->ai_family == AF_INET);
  freeaddrinfo(req.ar_result);

  mq_notify_thread();

  CHECK_ONE_KERNEL_THREAD();
  printf(
      "glibc_helpers: aio, getaddrinfo_a and mq_notify ran their helpers on this kernel "
      "thread\n");
  return 0;
}
