// pthread keys. A key is an index into a global table whose sequence number
// is odd while the key exists; each thread stores (value, sequence) pairs, so
// a value stored under a deleted key reads as NULL once the index is reused
// (glibc does the same). The first 32 values live in the thread structure,
// further blocks are allocated when first set.
#include <errno.h>

#include "core/thread/thread.h"

namespace ptshim {

namespace {
struct KeyEntry {
  uint64_t seq;  // odd: in use
  void (*destructor)(void*);
};
KeyEntry g_keys[kKeysMax];
unsigned g_key_limit;  // above every key ever created: exit scans only below

constexpr size_t kMoreBytes = sizeof(KeySlot*) * (kKeysMax / kKeyBlock);

bool key_in_use(unsigned key) { return key < kKeysMax && (g_keys[key].seq & 1) != 0; }

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
  for (unsigned k = 0; k < kKeysMax; ++k) {
    if ((g_keys[k].seq & 1) == 0) {
      ++g_keys[k].seq;
      g_keys[k].destructor = destructor;
      if (k >= g_key_limit) g_key_limit = k + 1;
      *key = k;
      return 0;
    }
  }
  return EAGAIN;
}

int key_delete(unsigned key) {
  if (!key_in_use(key)) return EINVAL;
  ++g_keys[key].seq;
  g_keys[key].destructor = nullptr;
  return 0;
}

void* key_get(unsigned key) {
  if (!key_in_use(key)) return nullptr;
  KeySlot* slot = slot_of(current(), key, false);
  if (slot == nullptr || slot->seq != g_keys[key].seq) return nullptr;
  return slot->value;
}

int key_set(unsigned key, const void* value) {
  if (!key_in_use(key)) return EINVAL;
  KeySlot* slot = slot_of(current(), key, true);
  slot->value = const_cast<void*>(value);
  slot->seq = g_keys[key].seq;
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
      bool live = slot->seq == g_keys[k].seq;
      slot->value = nullptr;
      if (live && g_keys[k].destructor != nullptr) {
        call_destructor(g_keys[k].destructor, value);
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
  for (size_t i = 0; i < kKeysMax / kKeyBlock; ++i) {
    if (t->keys_more[i] != nullptr) internal_free(t->keys_more[i], sizeof(KeySlot) * kKeyBlock);
  }
  internal_free(t->keys_more, kMoreBytes);
  t->keys_more = nullptr;
}

}  // namespace ptshim
