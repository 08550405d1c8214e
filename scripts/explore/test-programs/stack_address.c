// Prints where its stack and environment are, then exits 1: two runs print
// the same only when address-space randomisation is off and their
// environments have the same size.
#include <stdio.h>

extern char** environ;

int main(int argc, char** argv) {
  int local = 0;
  (void)argc;
  fprintf(stderr, "stack %p environ %p argv0 %p\n", (void*)&local, (void*)environ, (void*)argv[0]);
  return 1;
}
