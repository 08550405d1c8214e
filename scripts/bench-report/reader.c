/* Runs a program (argv[1..]) with its stderr on a pipe and prints, in
 * milliseconds, the time from the line "t0 <ns>" it writes (CLOCK_MONOTONIC,
 * just before it starts to fail) to the arrival of its last stderr byte;
 * with -v, the stderr too. The program is expected to die of its report.
 *   reader [-v] PROGRAM [ARGS...]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char** argv) {
  int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
  char** program = argv + 1 + verbose;
  int fds[2];
  if (argc < 2 + verbose || pipe(fds) != 0) return 2;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execvp(program[0], program);
    _exit(127);
  }
  close(fds[1]);
  static char text[1 << 20];
  size_t len = 0;
  long long last = 0;
  for (;;) {
    ssize_t n = read(fds[0], text + len, sizeof text - 1 - len);
    if (n <= 0) break;
    last = now_ns();
    len += (size_t)n;
  }
  text[len] = '\0';
  int status;
  waitpid(pid, &status, 0);
  const char* t0 = strstr(text, "t0 ");
  if (t0 == NULL) {
    fprintf(stderr, "reader: no t0 line in:\n%s", text);
    return 1;
  }
  printf("%.2f\n", (last - atoll(t0 + 3)) / 1e6);
  if (verbose) fputs(text, stderr);
  return 0;
}
