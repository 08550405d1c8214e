// std::call_once whose callable throws: the call is "exceptional", the flag
// stays unset, and the next caller runs its callable (libstdc++ calls
// pthread_once, whose routine the exception leaves). A thread that waited
// for the throwing call meanwhile runs its own callable once it ends.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "check.h"

static std::once_flag flag;
static std::atomic<int> calls{0}, entered{0};

int main() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  std::thread thrower([] {
    CHECK_ON_MAIN_KERNEL_THREAD();
    try {
      std::call_once(flag, [] {
        calls++;
        entered = 1;
        usleep(100 * 1000);  // the waiter arrives meanwhile
        throw std::runtime_error("first call fails");
      });
      CHECK_MSG(0, "call_once returned normally");
    } catch (const std::runtime_error&) {
    }
  });
  while (entered == 0) usleep(1000);
  std::thread waiter([] {
    CHECK_ON_MAIN_KERNEL_THREAD();
    std::call_once(flag, [] { calls += 10; });
  });
  thrower.join();
  waiter.join();
  CHECK_MSG(calls == 11, "calls = %d, want 11 (the waiter ran its callable)", calls.load());
  std::call_once(flag, [] { calls += 100; });
  CHECK_MSG(calls == 11, "calls = %d: the flag was not set", calls.load());
  printf("once_exception: a throwing call_once left the flag unset\n");
  CHECK_ONE_KERNEL_THREAD();
  return 0;
}
