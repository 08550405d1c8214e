// The seeded policies' set of runnable threads (sched.h, RunSet).
#include "core/sched/sched.h"

namespace ptshim {

void run_set_add(RunSet* set, Thread* t) {
  if (set->count == set->capacity) {
    set->items = internal_grow(set->items, set->count, &set->capacity, 64);
  }
  t->run_slot = static_cast<uint32_t>(set->count);
  set->items[set->count++] = t;
}

// The last one takes the removed one's place: the order stays a function of
// the adds and removes alone.
void run_set_remove(RunSet* set, Thread* t) {
  size_t i = t->run_slot;
  Thread* last = set->items[--set->count];
  set->items[i] = last;
  last->run_slot = static_cast<uint32_t>(i);
}

Thread* run_set_take(RunSet* set, size_t i) {
  Thread* t = set->items[i];
  run_set_remove(set, t);
  return t;
}

}  // namespace ptshim
