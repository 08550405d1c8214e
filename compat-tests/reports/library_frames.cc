// A crash in code the program hands to libstdc++ (a std::thread's callable),
// so that libstdc++'s own frames are on the stack: its thread entry, a local
// function of the stripped libstdc++.so.6, must be named by object and offset
// (or by its name, when libstdc++'s debug file is installed), never after the
// export that ends before it.
#include <thread>

#include "check.h"

namespace {
int* volatile target = nullptr;

__attribute__((noipa)) int fault() { return *target + 1; }
}  // namespace

int main() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  std::thread t([] {
    CHECK_ON_MAIN_KERNEL_THREAD();
    fault();
  });
  t.join();
  CHECK_MSG(0, "the crashing thread returned");
  return 1;
}
