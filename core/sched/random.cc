// The schedule's one generator: xoshiro256** (Blackman and Vigna), its
// state filled from the seed by splitmix64, as its authors recommend. Fast
// (a few instructions a draw), 2^256 - 1 period, and no system call or
// clock anywhere near it, so a seed names one sequence of draws.
#include "core/sched/sched.h"

namespace ptshim {

namespace {
uint64_t g_state[4] = {1, 2, 3, 4};

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t splitmix64(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}
}  // namespace

void sched_random_seed(uint64_t seed) {
  for (uint64_t& word : g_state) word = splitmix64(&seed);
}

uint64_t sched_random() {
  uint64_t result = rotl(g_state[1] * 5, 7) * 9;
  uint64_t t = g_state[1] << 17;
  g_state[2] ^= g_state[0];
  g_state[3] ^= g_state[1];
  g_state[1] ^= g_state[2];
  g_state[0] ^= g_state[3];
  g_state[2] ^= t;
  g_state[3] = rotl(g_state[3], 45);
  return result;
}

// Lemire's multiply-and-reject: unbiased, one multiplication in the usual case.
uint64_t sched_random_below(uint64_t bound) {
  unsigned __int128 m = static_cast<unsigned __int128>(sched_random()) * bound;
  auto low = static_cast<uint64_t>(m);
  if (low < bound) {
    uint64_t threshold = -bound % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(sched_random()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

}  // namespace ptshim
