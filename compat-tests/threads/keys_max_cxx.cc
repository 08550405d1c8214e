// keys_max with libstdc++ loaded and used (a std::thread, iostreams): the
// C++ runtime takes none of the program's PTHREAD_KEYS_MAX keys.
#include <iostream>
#include <thread>

extern "C" int keys_max_main(int argc, char** argv);

int main() {
  std::thread t([] { std::cout << "keys_max_cxx: a std::thread ran\n"; });
  t.join();
  char name[] = "keys_max", variant[] = "cxx";
  char* argv[] = {name, variant, nullptr};
  return keys_max_main(2, argv);
}
