// Counts its runs in the file named by argv[1] (under an flock) and exits 1
// on every third: in N runs, N/3 fail, whatever runs at the same time.
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) return 3;
  int fd = open(argv[1], O_RDWR | O_CREAT, 0644);
  if (fd < 0 || flock(fd, LOCK_EX) != 0) return 3;
  char buf[32] = {0};
  long n = 0;
  if (pread(fd, buf, sizeof buf - 1, 0) > 0) sscanf(buf, "%ld", &n);
  ++n;
  int len = snprintf(buf, sizeof buf, "%ld\n", n);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len) return 3;
  flock(fd, LOCK_UN);
  if (n % 3 == 0) {
    fprintf(stderr, "fails_every_third: run %ld fails\n", n);
    return 1;
  }
  return 0;
}
