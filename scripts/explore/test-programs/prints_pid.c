// Prints its process id: an output that differs from run to run.
#include <stdio.h>
#include <unistd.h>

int main(void) {
  printf("pid %ld\n", (long)getpid());
  return 0;
}
