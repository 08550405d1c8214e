/* A child's wait status in words, for CHECK messages: "exited with 3",
 * "killed by signal 9 (Killed)". */
#ifndef COMPAT_WAIT_STATUS_H
#define COMPAT_WAIT_STATUS_H

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static inline void describe_wait_status(int status, char* buf, size_t len) {
  if (WIFEXITED(status))
    snprintf(buf, len, "exited with %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    snprintf(buf, len, "wait status %#x", status);
}

#endif /* COMPAT_WAIT_STATUS_H */
