// A C++ exception nobody catches ends the program in std::terminate, which
// aborts. Each mode ends that way (or by a plain std::terminate / abort) in a
// thread named "worker", or in main:
//   uncaught_exception thread | main | noexcept | noexcept_cleanup | int |
//                      rethrow | catch_terminate | terminate | own_handler
#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <thread>

#include "check.h"

namespace app {

// Each thrower only throws, so the compiler keeps it whole (no .cold part)
// and it is the innermost frame of the throw.
__attribute__((noinline)) void load() { throw std::runtime_error("boom"); }
__attribute__((noinline)) void load_int() { throw 42; }

// An exception may not leave a noexcept function: the unwinder calls
// std::terminate there.
__attribute__((noinline)) void guarded() noexcept { load(); }

// With a destructor in between, the unwinder runs it (and unwinds load's
// frame) before it finds the noexcept frame.
struct Guard {
  ~Guard() { fputs("uncaught_exception: Guard destroyed\n", stderr); }
};
__attribute__((noinline)) void with_guard() {
  Guard g;
  load();
}
__attribute__((noinline)) void guarded_cleanup() noexcept { with_guard(); }

__attribute__((noinline)) void rethrower() {
  try {
    load();
  } catch (...) {
    fputs("uncaught_exception: caught, rethrowing\n", stderr);
    throw;
  }
}

__attribute__((noinline)) void terminate_in_catch() {
  try {
    load();
  } catch (...) {
    std::terminate();
  }
}

[[noreturn]] void own_handler() {
  fputs("uncaught_exception: own handler ran\n", stderr);
  abort();
}

void run(const char* mode) {
  if (strcmp(mode, "noexcept") == 0) guarded();
  if (strcmp(mode, "noexcept_cleanup") == 0) guarded_cleanup();
  if (strcmp(mode, "int") == 0) load_int();
  if (strcmp(mode, "rethrow") == 0) rethrower();
  if (strcmp(mode, "catch_terminate") == 0) terminate_in_catch();
  if (strcmp(mode, "terminate") == 0) std::terminate();
  load();
}

}  // namespace app

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  const char* mode = argc > 1 ? argv[1] : "thread";
  if (strcmp(mode, "own_handler") == 0) std::set_terminate(app::own_handler);
  if (strcmp(mode, "main") == 0) {
    // A thread first, so that the run shows it used one kernel thread.
    std::thread([] { CHECK_ON_MAIN_KERNEL_THREAD(); }).join();
    app::load();
  }
  std::thread worker([mode] {
    CHECK_ON_MAIN_KERNEL_THREAD();
    CHECK_RC(pthread_setname_np(pthread_self(), "worker"), 0);
    app::run(mode);
  });
  worker.join();
  CHECK_MSG(false, "the worker returned");
  return 1;
}
