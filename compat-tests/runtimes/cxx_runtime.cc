// The C++ standard library's threading on top of pthreads and futexes:
// jthread with stop tokens, async, shared_mutex, timed_mutex,
// recursive_mutex, condition_variable_any, C++20 latch / barrier /
// counting_semaphore and atomic wait (raw futex system calls in libstdc++).
#include <atomic>
#include <barrier>
#include <condition_variable>
#include <future>
#include <latch>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "check.h"

using namespace std::chrono_literals;

int main() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  // jthread + stop_token + condition_variable_any
  std::mutex m;
  std::condition_variable_any cv;
  int woken_by_stop = 0;
  {
    std::jthread t([&](std::stop_token st) {
      CHECK_ON_MAIN_KERNEL_THREAD();
      std::unique_lock lock(m);
      cv.wait(lock, st, [] { return false; });
      woken_by_stop = st.stop_requested();
    });
    std::this_thread::sleep_for(10ms);
  }  // destructor requests stop and joins
  CHECK(woken_by_stop == 1);

  // async
  auto f1 = std::async(std::launch::async, [] {
    CHECK_ON_MAIN_KERNEL_THREAD();
    return 6 * 7;
  });
  auto f2 = std::async(std::launch::async, [] { throw std::runtime_error("from async"); });
  CHECK(f1.get() == 42);
  bool caught = false;
  try {
    f2.get();
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "from async";
  }
  CHECK(caught);

  // shared_mutex: readers together, writers alone
  std::shared_mutex sm;
  std::atomic<int> readers{0}, max_readers{0};
  long a = 0, b = 0;
  std::vector<std::thread> ts;
  for (int i = 0; i < 6; i++) {
    ts.emplace_back([&, i] {
      for (int k = 0; k < 2000; k++) {
        if (i % 3 == 0) {
          std::unique_lock w(sm);
          a++;
          b++;
        } else {
          std::shared_lock r(sm);
          int now = ++readers;
          int seen = max_readers.load();
          while (now > seen && !max_readers.compare_exchange_weak(seen, now)) {
          }
          CHECK(a == b);
          --readers;
          if (k % 64 == 0) std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  ts.clear();
  CHECK(a == 4000 && b == 4000);

  // timed_mutex / recursive_mutex
  std::timed_mutex tm;
  tm.lock();
  std::thread tt([&] {
    auto t0 = std::chrono::steady_clock::now();
    CHECK(!tm.try_lock_for(30ms));
    CHECK(std::chrono::steady_clock::now() - t0 >= 30ms);
  });
  tt.join();
  tm.unlock();
  std::recursive_mutex rm;
  rm.lock();
  rm.lock();
  rm.unlock();
  rm.unlock();

  // latch, barrier, counting_semaphore, atomic wait
  std::latch done(4);
  std::barrier bar(4);
  std::counting_semaphore<8> sem(0);
  std::atomic<int> phase{0};
  for (int i = 0; i < 4; i++) {
    ts.emplace_back([&] {
      CHECK_ON_MAIN_KERNEL_THREAD();
      bar.arrive_and_wait();
      phase.wait(0);
      sem.release();
      done.count_down();
    });
  }
  std::this_thread::sleep_for(20ms);
  phase = 1;
  phase.notify_all();
  for (int i = 0; i < 4; i++) sem.acquire();
  done.wait();
  for (auto& t : ts) t.join();
  CHECK_ONE_KERNEL_THREAD();
  std::printf(
      "cxx_runtime: jthread, async, shared/timed/recursive mutexes, latch, barrier, "
      "semaphore and atomic wait on one kernel thread\n");
  return 0;
}
