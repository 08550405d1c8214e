// The schedule's record: what a seeded run could not control.
#include "core/sched/sched.h"

namespace ptshim {

namespace {
uint64_t g_uncontrolled[static_cast<int>(Uncontrolled::kCount)];
}  // namespace

void schedule_note_uncontrolled(Uncontrolled what) { ++g_uncontrolled[static_cast<int>(what)]; }

}  // namespace ptshim
