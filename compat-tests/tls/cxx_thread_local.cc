// C++ thread_local objects: each thread constructs its own on first use,
// sees only its own across switches, and its destructor runs when the
// thread exits (before join returns).
#include <atomic>
#include <thread>
#include <vector>

#include "check.h"

namespace {

constexpr int kThreads = 8;
std::atomic<int> constructed{0}, destroyed{0}, destroyed_elsewhere{0};

struct PerThread {
  int value = 7;  // every thread starts from the initializer
  std::thread::id owner = std::this_thread::get_id();
  PerThread() { constructed++; }
  ~PerThread() {
    // Counted, not CHECKed: a failing check calls exit(), which may run this.
    if (owner != std::this_thread::get_id()) destroyed_elsewhere++;
    destroyed++;
  }
};
thread_local PerThread per_thread;

}  // namespace

int main() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; i++)
    threads.emplace_back([i] {
      CHECK_ON_MAIN_KERNEL_THREAD();
      CHECK_MSG(per_thread.value == 7, "thread %d: new thread_local has value %d, want 7", i,
                per_thread.value);
      per_thread.value = 100 + i;
      for (int r = 0; r < 20; r++) {
        if (r % 5 == 0)
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        else
          std::this_thread::yield();
        CHECK_MSG(per_thread.value == 100 + i, "thread %d: thread_local became %d", i,
                  per_thread.value);
      }
      CHECK_ON_MAIN_KERNEL_THREAD();
    });
  for (int i = 0; i < kThreads; i++) {
    threads[i].join();
    CHECK_MSG(destroyed >= i + 1, "after joining %d threads, only %d thread_local destructor runs",
              i + 1, destroyed.load());
  }
  CHECK_MSG(destroyed_elsewhere == 0, "%d thread_local objects destroyed by another thread",
            destroyed_elsewhere.load());
  CHECK_MSG(constructed == kThreads, "%d thread_local constructions for %d threads",
            constructed.load(), kThreads);
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "cxx_thread_local: %d threads each constructed, kept and destroyed (at exit) their own "
      "thread_local\n",
      kThreads);
  return 0;
}
