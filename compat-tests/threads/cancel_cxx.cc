// pthread_exit and cancellation in C++ unwind the thread's frames: every
// destructor runs, innermost first, pthread_cleanup_push's handlers too
// (C++ form), and catch (...) that rethrows sees the unwind pass.
#include <pthread.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "check.h"

static std::vector<std::string> events;

struct Noted {
  std::string name;
  ~Noted() { events.push_back("~" + name); }
};

static void handler(void*) { events.push_back("cleanup"); }

static void inner_exit() {
  Noted n{"inner"};
  pthread_exit(reinterpret_cast<void*>(7));
}

static void* exiting(void*) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  Noted n{"outer"};
  try {
    inner_exit();
  } catch (...) {
    events.push_back("catch-all");
    throw;  // the unwind must go on
  }
  return nullptr;
}

static void* canceled(void*) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  Noted n{"sleeper"};
  pthread_cleanup_push(handler, nullptr);
  for (;;) sleep(1);
  pthread_cleanup_pop(0);
  return nullptr;
}

int main() {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_t t;
  void* result;
  CHECK_RC(pthread_create(&t, nullptr, exiting, nullptr), 0);
  CHECK_RC(pthread_join(t, &result), 0);
  CHECK(result == reinterpret_cast<void*>(7));
  std::vector<std::string> want{"~inner", "catch-all", "~outer"};
  CHECK_MSG(events == want, "pthread_exit unwound %zu events, want ~inner catch-all ~outer",
            events.size());
  events.clear();
  CHECK_RC(pthread_create(&t, nullptr, canceled, nullptr), 0);
  usleep(10 * 1000);
  CHECK_RC(pthread_cancel(t), 0);
  CHECK_RC(pthread_join(t, &result), 0);
  CHECK(result == PTHREAD_CANCELED);
  want = {"cleanup", "~sleeper"};
  CHECK_MSG(events == want, "cancellation unwound %zu events, want cleanup ~sleeper",
            events.size());
  CHECK_ONE_KERNEL_THREAD();
  std::printf("cancel_cxx: pthread_exit and cancellation ran destructors and cleanups in order\n");
  return 0;
}
