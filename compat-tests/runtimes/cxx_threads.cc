// The C++20 thread library (std::thread, std::jthread, std::mutex,
// std::condition_variable, this_thread) running on pthreads. thread_local is
// checked separately, in cxx_thread_local.cc.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stop_token>
#include <thread>
#include <vector>

#include "check.h"

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// ---- a counter across 8 threads --------------------------------------------------

constexpr int kThreads = 8;
constexpr int kIncrements = 20000;

std::mutex counter_mutex;
long counter = 0;

void check_counter() {
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; i++)
    threads.emplace_back([] {
      CHECK_ON_MAIN_KERNEL_THREAD();
      for (int n = 0; n < kIncrements; n++) {
        std::lock_guard<std::mutex> guard(counter_mutex);
        long seen = counter;
        std::atomic_signal_fence(std::memory_order_seq_cst);  // keep load and store apart
        counter = seen + 1;
        if (n % 1000 == 0) std::this_thread::yield();  // yield while holding the lock
      }
      CHECK_ON_MAIN_KERNEL_THREAD();
    });
  for (auto& t : threads) t.join();
  CHECK_MSG(counter == long{kThreads} * kIncrements, "counter %ld", counter);
}

// ---- a hand-off through a condition variable ---------------------------------------

constexpr int kHandoffs = 2000;

void check_handoff() {
  std::mutex m;
  std::condition_variable cv;
  int value = 0;  // producer writes odd, consumer answers with the next even
  bool ball_with_consumer = false;

  std::thread consumer([&] {
    CHECK_ON_MAIN_KERNEL_THREAD();
    for (int i = 0; i < kHandoffs; i++) {
      std::unique_lock<std::mutex> lock(m);
      cv.wait(lock, [&] { return ball_with_consumer; });
      CHECK(value == 2 * i + 1);
      value++;
      ball_with_consumer = false;
      lock.unlock();
      cv.notify_one();
    }
    CHECK_ON_MAIN_KERNEL_THREAD();
  });
  for (int i = 0; i < kHandoffs; i++) {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return !ball_with_consumer; });
    CHECK(value == 2 * i);
    value++;
    ball_with_consumer = true;
    cv.notify_one();
  }
  consumer.join();
  CHECK(value == 2 * kHandoffs);
}

// ---- timeouts: wait_for and sleep_for ----------------------------------------------

double check_timeouts() {
  std::mutex m;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(m);
  auto start = steady::now();
  bool got = cv.wait_for(lock, 30ms, [] { return false; });
  auto waited = steady::now() - start;
  CHECK(!got);
  CHECK_MSG(waited >= 30ms, "wait_for(30ms) returned after %.3f ms",
            std::chrono::duration<double, std::milli>(waited).count());
  CHECK(cv.wait_for(lock, 5ms) == std::cv_status::timeout);

  // sleep_for in another thread, while this one waits in join.
  std::thread sleeper([] {
    CHECK_ON_MAIN_KERNEL_THREAD();
    auto t0 = steady::now();
    std::this_thread::sleep_for(10ms);
    CHECK(steady::now() - t0 >= 10ms);
    std::this_thread::sleep_until(steady::now() + 5ms);
    CHECK_ON_MAIN_KERNEL_THREAD();
  });
  sleeper.join();
  return std::chrono::duration<double, std::milli>(waited).count();
}

// ---- thread ids, jthread ---------------------------------------------------------------

void check_ids() {
  std::mutex m;
  std::set<std::thread::id> ids;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; i++)
    threads.emplace_back([&, i] {
      CHECK_ON_MAIN_KERNEL_THREAD();
      auto me = std::this_thread::get_id();
      {
        std::lock_guard<std::mutex> guard(m);
        ids.insert(me);
      }
      std::this_thread::yield();
      std::this_thread::sleep_for(1ms);
      CHECK_MSG(std::this_thread::get_id() == me, "thread %d's id changed", i);
      CHECK_ON_MAIN_KERNEL_THREAD();
    });
  std::vector<std::thread::id> joinable_ids;
  for (auto& t : threads) joinable_ids.push_back(t.get_id());
  for (auto& t : threads) t.join();
  CHECK_MSG(ids.size() == kThreads, "%zu distinct thread ids from %d threads", ids.size(),
            kThreads);
  CHECK(!ids.count(std::this_thread::get_id()));
  for (auto id : joinable_ids) CHECK(ids.count(id));
}

void check_jthread() {
  std::atomic<long> loops{0};
  {
    std::jthread worker([&](std::stop_token stop) {
      CHECK_ON_MAIN_KERNEL_THREAD();
      while (!stop.stop_requested()) {
        loops++;
        std::this_thread::yield();
      }
      CHECK_ON_MAIN_KERNEL_THREAD();
    });
    std::this_thread::sleep_for(10ms);
  }  // ~jthread: request_stop() and join()
  CHECK(loops > 0);
}

}  // namespace

int main() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  check_counter();
  check_handoff();
  double waited_ms = check_timeouts();
  check_ids();
  check_jthread();
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "cxx_threads: std::mutex counter %d x %d; %d condvar hand-offs; wait_for timed out "
      "after %.1f ms; sleep_for/sleep_until; %d distinct thread ids; jthread stop\n",
      kThreads, kIncrements, kHandoffs, waited_ms, kThreads);
  return 0;
}
