// A cheap, monotonic count of elapsed time in unspecified units (x86-64: the
// time-stamp counter, which this kernel's clock source reads too). Used only
// for ratios of intervals, so its frequency never matters: core/sched
// charges threads in these units and converts their sum into the kernel's
// CPU time.
#pragma once

#include <cstdint>

namespace ptshim::arch {

// rdtsc without a fence: an interval measured between two switches may be
// off by the few instructions the processor reorders around it.
inline uint64_t cycle_counter() { return __builtin_ia32_rdtsc(); }

}  // namespace ptshim::arch
