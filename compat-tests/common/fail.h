/* Failures seen where a CHECK must not stop the process: in destructors run
 * by the unwinder or at a thread's exit, where calling exit() is not
 * allowed. fail() counts them and keeps the first message; ordinary code
 * reports it later with CHECK_NO_FAILURES().
 *
 * Usable from C and C++, like check.h (include check.h first). */
#ifndef COMPAT_FAIL_H
#define COMPAT_FAIL_H

#include <stdarg.h>
#include <stdio.h>

static int failures; /* fail() calls so far; read and add with __atomic */
static char first_failure[512];

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static inline void
fail(const char* fmt, ...) {
  if (__atomic_fetch_add(&failures, 1, __ATOMIC_SEQ_CST) != 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(first_failure, sizeof first_failure, fmt, ap);
  va_end(ap);
}

#define CHECK_NO_FAILURES() \
  CHECK_MSG(__atomic_load_n(&failures, __ATOMIC_SEQ_CST) == 0, "%s", first_failure)

#endif /* COMPAT_FAIL_H */
