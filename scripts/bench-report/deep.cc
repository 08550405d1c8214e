// A C++ recursion that overflows an 8 MiB stack at about 4,000 frames
// (2 KiB each), in a std::thread.
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

namespace app {
struct Parser {
  int depth(const std::string& s, int n);
};
__attribute__((noinline)) int Parser::depth(const std::string& s, int n) {
  volatile char frame[2000];
  frame[0] = static_cast<char>(n);
  if (n < 0) return 0;
  return depth(s, n + 1) + frame[0];
}
}  // namespace app

int main() {
  std::thread t([] {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    std::fprintf(stderr, "t0 %lld\n", ts.tv_sec * 1000000000LL + ts.tv_nsec);
    app::Parser p;
    return p.depth("text", 0);
  });
  t.join();
  return 1;
}
