// A recursion without an end in a std::thread: the stack overflow report.
#include <string>
#include <thread>

namespace app {
struct Parser {
  int depth(const std::string& text, int level) {
    volatile char frame[256];
    frame[0] = text[0];
    return depth(text, level + 1) + frame[0];
  }
};
}  // namespace app

int main() {
  std::thread worker([] {
    app::Parser parser;
    parser.depth("x", 0);
  });
  worker.join();
}
