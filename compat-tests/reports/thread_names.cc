/* Threads a C++ program makes every way it can, none of them named with
 * pthread_setname_np: std::thread with a lambda, a function pointer and a
 * member function, std::jthread, std::async, and a C thread. Each blocks on
 * a mutex main holds while main raises SIGQUIT (the thread dump), then all
 * finish; two more threads (a lambda, a function) have exited by then, not
 * joined yet. The lambda's thread is
 * created by app::start_parser, not main. thread_names [overflow]   overflow: the lambda's thread
 * recurses in app::Parser::depth until its stack overflows */
#include <pthread.h>
#include <signal.h>

#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "check.h"

static std::mutex gate;
static bool overflow;

namespace app {
struct Parser {
  __attribute__((noinline)) int depth(const std::string& text, int level) {
    volatile char frame[256];
    frame[0] = static_cast<char>(level);
    if (overflow) return depth(text, level + 1) + frame[0];
    if (level < 2) return depth(text, level + 1) + frame[0];
    std::lock_guard<std::mutex> hold(gate);
    return static_cast<int>(text.size()) + frame[0];
  }
};

struct Worker {
  int runs = 0;
  void run() {
    CHECK_ON_MAIN_KERNEL_THREAD();
    std::lock_guard<std::mutex> hold(gate);
    ++runs;
  }
};

__attribute__((noinline)) std::thread start_parser() {
  return std::thread([] {
    CHECK_ON_MAIN_KERNEL_THREAD();
    Parser p;
    p.depth("x", 0);
  });
}
}  // namespace app

static void t1() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  std::lock_guard<std::mutex> hold(gate);
}

static int answer() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  std::lock_guard<std::mutex> hold(gate);
  return 42;
}

static void finish() { CHECK_ON_MAIN_KERNEL_THREAD(); }

extern "C" void* c_worker(void*) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  std::lock_guard<std::mutex> hold(gate);
  return nullptr;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  overflow = argc > 1 && strcmp(argv[1], "overflow") == 0;
  if (overflow) {
    app::start_parser().join();
    return 1;  // not reached: the stack overflows
  }
  gate.lock();
  std::thread parser = app::start_parser();
  std::thread plain(t1);
  app::Worker w;
  std::thread member(&app::Worker::run, &w);
  std::jthread stoppable([](std::stop_token stop) {
    CHECK_ON_MAIN_KERNEL_THREAD();
    std::lock_guard<std::mutex> hold(gate);
    CHECK(!stop.stop_requested());
  });
  std::future<int> result = std::async(std::launch::async, answer);
  pthread_t c;
  CHECK_RC(pthread_create(&c, nullptr, c_worker, nullptr), 0);
  // Exits before the dump: its state object is gone, its name is not.
  std::thread quick([] { CHECK_ON_MAIN_KERNEL_THREAD(); });
  std::thread done(finish);
  usleep(50 * 1000); /* everyone reaches the gate */
  CHECK(raise(SIGQUIT) == 0);
  gate.unlock();
  parser.join();
  plain.join();
  member.join();
  stoppable.join();
  CHECK(result.get() == 42);
  CHECK_RC(pthread_join(c, nullptr), 0);
  quick.join();
  done.join();
  CHECK(w.runs == 1);
  CHECK_ONE_KERNEL_THREAD();
  printf("thread_names: all threads finished normally\n");
  return 0;
}
