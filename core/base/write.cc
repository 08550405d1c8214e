// The report writer: text into a stack buffer, out with write(2). Reports
// are made with the heap or stdio in any state, even from a signal handler.
#include <sys/syscall.h>

#include "core/base/base.h"

namespace ptshim {

Writer& Writer::chr(char c) {
  if (len == sizeof buf) flush();
  buf[len++] = c;
  return *this;
}

Writer& Writer::str(const char* s) {
  while (*s != '\0') chr(*s++);
  return *this;
}

Writer& Writer::dec(uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) chr(digits[--n]);
  return *this;
}

Writer& Writer::sdec(int64_t v) {
  if (v < 0) {
    chr('-');
    return dec(static_cast<uint64_t>(-(v + 1)) + 1);
  }
  return dec(static_cast<uint64_t>(v));
}

Writer& Writer::hex(uint64_t v) {
  str("0x");
  char digits[16];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v != 0);
  while (n > 0) chr(digits[--n]);
  return *this;
}

namespace {
void write_all(int fd, const char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    long n = arch::raw_syscall(SYS_write, fd, reinterpret_cast<long>(data + done),
                               static_cast<long>(size - done));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}
}  // namespace

void Writer::flush() {
  write_all(fd, buf, len);
  if (copy_fd >= 0) write_all(copy_fd, buf, len);
  len = 0;
}

}  // namespace ptshim
