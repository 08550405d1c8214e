// An ordinary C++ program for scripts/gdb/check-gdb.sh live-cxx: four
// threads of the standard library's kinds (a lambda, a function, a member
// function, std::async) wait on one condition variable while main stops in
// all_blocked(). It knows nothing of ptshim.
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>

std::mutex m;
std::condition_variable cv;
bool go;

void wait_for_go() {
  std::unique_lock l(m);
  cv.wait(l, [] { return go; });
}
namespace app {
struct Worker {
  void run() { wait_for_go(); }
};
}  // namespace app
void t1() { wait_for_go(); }
int answer() {
  wait_for_go();
  return 42;
}
__attribute__((noinline)) void all_blocked() { __asm__ volatile(""); }

int main() {
  app::Worker w;
  std::thread a([] { wait_for_go(); });
  std::thread b(t1);
  std::thread c(&app::Worker::run, &w);
  auto f = std::async(std::launch::async, answer);
  for (int i = 0; i < 10; i++) std::this_thread::yield();
  all_blocked();
  {
    std::lock_guard g(m);
    go = true;
  }
  cv.notify_all();
  a.join();
  b.join();
  c.join();
  std::puts(f.get() == 42 ? "done" : "wrong");
}
