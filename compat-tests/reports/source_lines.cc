// A C++ program built -O2 -g: a fault inside a static inline function that
// the compiler inlines into a member function, a runaway recursion of a
// member function (4,000 frames deep, then a fault, or an overflow), and two
// std::mutex taken in opposite order. Under the shim the reports name each
// frame's source line and the inlined function.
//   source_lines crash | deep | overflow | deadlock
#include <pthread.h>

#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "check.h"

namespace app {
volatile int* g_nowhere;

static inline int inner_fault(int x) {
  return *g_nowhere + x;  // SOURCE_LINES_FAULT (line 20)
}

struct Parser {
  int depth(const std::string& s, int n);
  int crash(int n);
};

__attribute__((noinline)) int Parser::crash(int n) {
  return inner_fault(n) * 3;  // SOURCE_LINES_INLINED_AT (line 29)
}

__attribute__((noinline)) int Parser::depth(const std::string& s, int n) {
  volatile char frame[64];
  frame[0] = static_cast<char>(n);
  if (n == 0) return crash(static_cast<int>(s.size()));  // line 35
  return depth(s, n - 1) + frame[0];                     // SOURCE_LINES_RECURSE (line 36)
}

std::mutex a, b;
}  // namespace app

int main(int argc, char** argv) {
  std::thread([] { CHECK_ON_MAIN_KERNEL_THREAD(); }).join();
  const char* mode = argc > 1 ? argv[1] : "crash";
  app::Parser p;
  std::string s("text");
  if (strcmp(mode, "crash") == 0) return p.crash(argc);    // line 47
  if (strcmp(mode, "deep") == 0) return p.depth(s, 4000);  // line 48
  if (strcmp(mode, "overflow") == 0) {
    std::thread t([&] { p.depth(s, 1 << 30); });  // line 50
    t.join();
    return 1;
  }
  std::thread t1([] {
    std::lock_guard<std::mutex> la(app::a);
    usleep(20000);
    std::lock_guard<std::mutex> lb(app::b);  // line 57
  });
  std::thread t2([] {
    std::lock_guard<std::mutex> lb(app::b);
    usleep(20000);
    std::lock_guard<std::mutex> la(app::a);  // line 62
  });
  t1.join();
  t2.join();
  return 1;
}
