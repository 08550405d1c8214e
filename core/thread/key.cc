// pthread keys. A key is an index into a table whose sequence number is odd
// while the key exists; each thread stores (value, sequence) pairs, so a
// value stored under a deleted key reads as NULL once the index is reused
// (glibc does the same). The first 32 values live in the thread structure,
// further blocks are allocated when first set.
//
// Invariants:
// - Keys 0 .. PTHREAD_KEYS_MAX - 1 are the program's, in glibc's own table
//   (__pthread_keys, nptl's struct pthread_key_struct: the same two words),
//   so a key made by glibc's pthread_key_create (a library that found it
//   with dlsym, or the old __pthread_key_create name) is taken for ptshim
//   too, and the program gets exactly the keys it would get natively.
// - Keys made for ptshim itself (key_reserve_for_ptshim, reports) come from
//   kKeysReserved more indices above those: libunwind's key, made when
//   ptshim warms it up, costs the program none.
#include <errno.h>

#include "core/thread/thread.h"

namespace {
struct KeyEntry {
  uint64_t seq;  // odd: in use
  void (*destructor)(void*);
};
}  // namespace

// glibc's table, bound weakly to its GLIBC_PRIVATE version (without it,
// ptshim's own table serves).
extern "C" char __pthread_keys[] __attribute__((weak));
__asm__(".symver __pthread_keys,__pthread_keys@GLIBC_PRIVATE");

namespace ptshim {

namespace {
KeyEntry g_own_keys[kKeysMax];  // only without glibc's table
KeyEntry g_reserved_keys[kKeysReserved];
// Above every program key, and every reserved one, ever created: a thread's
// exit scans only below them.
unsigned g_key_limit;
unsigned g_reserved_limit = kKeysMax;
bool g_reserve_for_ptshim;

constexpr size_t kMoreBytes = sizeof(KeySlot*) * (kKeyIndices / kKeyBlock);

KeyEntry& entry(unsigned key) {
  if (key >= kKeysMax) return g_reserved_keys[key - kKeysMax];
  KeyEntry* program =
      __pthread_keys != nullptr ? reinterpret_cast<KeyEntry*>(__pthread_keys) : g_own_keys;
  return program[key];
}

bool key_in_use(unsigned key) { return key < kKeyIndices && (entry(key).seq & 1) != 0; }

KeySlot* slot_of(Thread* t, unsigned key, bool create) {
  if (key < kKeyBlock) return &t->keys_first[key];
  if (t->keys_more == nullptr) {
    if (!create) return nullptr;
    t->keys_more = static_cast<KeySlot**>(internal_alloc_zeroed(kMoreBytes));
  }
  KeySlot*& block = t->keys_more[key / kKeyBlock];
  if (block == nullptr) {
    if (!create) return nullptr;
    block = static_cast<KeySlot*>(internal_alloc_zeroed(sizeof(KeySlot) * kKeyBlock));
  }
  return &block[key % kKeyBlock];
}

// Calls visit(key, slot) for each value slot of `t` a thread's exit must
// look at: the program's keys below g_key_limit (only the first block when
// `t` never set a later one), then the reserved keys in use, whose values
// live in keys_more like every key past the first block.
template <typename Visit>
void for_each_value_slot(Thread* t, Visit visit) {
  auto range = [&](unsigned lo, unsigned hi) {
    for (unsigned k = lo; k < hi; ++k) {
      KeySlot* slot = slot_of(t, k, false);
      if (slot == nullptr) {
        if (k % kKeyBlock == 0) k += kKeyBlock - 1;  // a block never allocated
        continue;
      }
      visit(k, slot);
    }
  };
  bool more = t->keys_more != nullptr;
  range(0, !more && g_key_limit > kKeyBlock ? kKeyBlock : g_key_limit);
  if (more) range(kKeysMax, g_reserved_limit);
}

// Calls program code: leaves the core around it.
void call_destructor(void (*destructor)(void*), void* value) {
  leave_core();
  destructor(value);
  enter_core();
}
}  // namespace

int key_create(unsigned* key, void (*destructor)(void*)) {
  bool own = g_reserve_for_ptshim || g_reporting;
  unsigned first = own ? kKeysMax : 0, end = own ? kKeyIndices : kKeysMax;
  for (unsigned k = first; k < end; ++k) {
    KeyEntry& e = entry(k);
    // Unused, and its sequence number does not wrap (glibc's KEY_USABLE).
    if ((e.seq & 1) == 0 && e.seq + 2 > e.seq) {
      ++e.seq;
      e.destructor = destructor;
      unsigned& limit = own ? g_reserved_limit : g_key_limit;
      if (k >= limit) limit = k + 1;
      *key = k;
      return 0;
    }
  }
  return EAGAIN;
}

void key_reserve_for_ptshim(bool on) { g_reserve_for_ptshim = on; }

int key_delete(unsigned key) {
  if (!key_in_use(key)) return EINVAL;
  ++entry(key).seq;
  entry(key).destructor = nullptr;
  return 0;
}

void* key_get(unsigned key) {
  if (!key_in_use(key)) return nullptr;
  KeySlot* slot = slot_of(current(), key, false);
  if (slot == nullptr || slot->seq != entry(key).seq) return nullptr;
  return slot->value;
}

int key_set(unsigned key, const void* value) {
  if (!key_in_use(key)) return EINVAL;
  KeySlot* slot = slot_of(current(), key, true);
  slot->value = const_cast<void*>(value);
  slot->seq = entry(key).seq;
  return 0;
}

void key_run_destructors(Thread* t) {
  for (int round = 0; round < kDestructorIterations; ++round) {
    bool called = false;
    for_each_value_slot(t, [&](unsigned k, KeySlot* slot) {
      if (slot->value == nullptr) return;
      void* value = slot->value;
      KeyEntry& e = entry(k);
      bool live = slot->seq == e.seq;
      slot->value = nullptr;
      if (live && e.destructor != nullptr) {
        call_destructor(e.destructor, value);
        called = true;
      }
    });
    if (!called) return;
  }
  // Values set again by the last round's destructors are dropped (glibc
  // leaks them too): a reused slot must start with none.
  for_each_value_slot(t, [](unsigned, KeySlot* slot) { slot->value = nullptr; });
}

void key_release_storage(Thread* t) {
  if (t->keys_more == nullptr) return;
  for (size_t i = 0; i < kKeyIndices / kKeyBlock; ++i) {
    if (t->keys_more[i] != nullptr) internal_free(t->keys_more[i], sizeof(KeySlot) * kKeyBlock);
  }
  internal_free(t->keys_more, kMoreBytes);
  t->keys_more = nullptr;
}

}  // namespace ptshim
