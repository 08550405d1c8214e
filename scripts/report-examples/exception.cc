// An exception no one catches, thrown in a worker thread.
#include <stdexcept>
#include <string>
#include <thread>

namespace app {
int parse_port(const std::string& text) {
  if (text.empty() || text[0] < '0' || text[0] > '9') {
    throw std::invalid_argument("not a port: '" + text + "'");
  }
  return std::stoi(text);
}
}  // namespace app

int main() {
  std::thread loader([] { app::parse_port("http"); });
  loader.join();
}
