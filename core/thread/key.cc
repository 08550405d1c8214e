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
unsigned g_key_limit;  // above every key ever created: exit scans only below
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
      if (k >= g_key_limit) g_key_limit = k + 1;
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
    for (unsigned k = 0; k < g_key_limit; ++k) {
      KeySlot* slot = slot_of(t, k, false);
      if (k % kKeyBlock == 0 && slot == nullptr) {
        k += kKeyBlock - 1;  // a block never allocated
        continue;
      }
      if (slot == nullptr || slot->value == nullptr) continue;
      void* value = slot->value;
      KeyEntry& e = entry(k);
      bool live = slot->seq == e.seq;
      slot->value = nullptr;
      if (live && e.destructor != nullptr) {
        call_destructor(e.destructor, value);
        called = true;
      }
    }
    if (!called) return;
  }
  // Values set again by the last round's destructors are dropped (glibc
  // leaks them too): a reused slot must start with none.
  for (unsigned k = 0; k < g_key_limit; ++k) {
    if (KeySlot* slot = slot_of(t, k, false)) slot->value = nullptr;
  }
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
