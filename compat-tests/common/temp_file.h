/* For tests that check what their threads wrote: a temporary file, stdout
 * sent to it and back, and the whole file read back at the end.
 *
 * Usable from C and C++, like check.h (include check.h first). */
#ifndef COMPAT_TEMP_FILE_H
#define COMPAT_TEMP_FILE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* A temporary file in $TMPDIR (or /tmp) open for reading and writing,
 * unlinked at once: nothing is left behind however the program ends. `tag`
 * starts its name. */
static inline FILE* temp_file(const char* tag) {
  const char* dir = getenv("TMPDIR");
  char path[512];
  snprintf(path, sizeof path, "%s/%s.XXXXXX", dir != NULL && *dir != '\0' ? dir : "/tmp", tag);
  int fd = mkstemp(path);
  CHECK_MSG(fd >= 0, "mkstemp(%s): %s", path, strerror(errno));
  CHECK(unlink(path) == 0);
  FILE* f = fdopen(fd, "w+");
  CHECK(f != NULL);
  return f;
}

/* Sends stdout (the descriptor, and the stream with a buffer of
 * `buffer_size` bytes, so that it flushes in the middle of lines) to `to`.
 * Returns the descriptor to give restore_stdout. */
static inline int redirect_stdout(FILE* to, size_t buffer_size) {
  CHECK(fflush(stdout) == 0);
  int saved = dup(STDOUT_FILENO);
  CHECK(saved >= 0);
  CHECK(dup2(fileno(to), STDOUT_FILENO) == STDOUT_FILENO);
  CHECK(setvbuf(stdout, NULL, _IOFBF, buffer_size) == 0);
  return saved;
}

/* Flushes stdout into the file it went to and sends it back where it was. */
static inline void restore_stdout(int saved) {
  CHECK(fflush(stdout) == 0);
  CHECK(dup2(saved, STDOUT_FILENO) == STDOUT_FILENO);
  close(saved);
}

/* All of `f` from its start, which must be `want` bytes long, with a NUL
 * after it; free() it. `what` names the file in a failed check. */
static inline char* read_whole_file(FILE* f, off_t want, const char* what) {
  CHECK(fflush(f) == 0);
  CHECK(fseeko(f, 0, SEEK_END) == 0);
  off_t size = ftello(f);
  CHECK_MSG(size == want, "%s: %lld bytes, want %lld", what, (long long)size, (long long)want);
  char* data = (char*)malloc((size_t)size + 1);
  CHECK(data != NULL);
  rewind(f);
  CHECK(fread(data, 1, (size_t)size, f) == (size_t)size);
  data[size] = '\0';
  return data;
}

#endif /* COMPAT_TEMP_FILE_H */
