// The partial deadlock with std::mutex and std::thread: two threads lock
// two mutexes in opposite order (std::lock_guard) while a worker prints 100
// items and main joins only the worker, then returns (std::quick_exit: the
// deadlocked std::threads are never joined, which std::terminate would
// punish at exit). The mutexes are exported globals (-rdynamic).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "check.h"

std::mutex mutex_a;
std::mutex mutex_b;

static std::atomic<int> items_done, have_a, have_b;

static void wait_until(std::atomic<int>& flag) {
  while (flag.load() == 0) std::this_thread::sleep_for(std::chrono::microseconds(500));
}

static void worker() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 1; i <= 100; i++) {
    std::fprintf(stderr, "worker: item %d\n", i);
    if (i >= 3) items_done = 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
}

static void lock_ab() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  wait_until(items_done);
  std::lock_guard<std::mutex> first(mutex_a);
  have_a = 1;
  wait_until(have_b);
  std::lock_guard<std::mutex> second(mutex_b);
  CHECK_MSG(0, "lock_ab got both: no deadlock");
}

static void lock_ba() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  wait_until(items_done);
  std::lock_guard<std::mutex> first(mutex_b);
  have_b = 1;
  wait_until(have_a);
  std::lock_guard<std::mutex> second(mutex_a);
  CHECK_MSG(0, "lock_ba got both: no deadlock");
}

int main() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  std::thread w(worker);
  std::thread ab(lock_ab);
  std::thread ba(lock_ba);
  w.join();
  std::printf("main: the worker finished its 100 items\n");
  std::fflush(stdout);
  CHECK_ON_MAIN_KERNEL_THREAD();
  std::quick_exit(0);
}
