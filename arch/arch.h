// The only header above arch/ includes: it selects the files for this CPU and
// ABI. Nothing outside arch/ names a register or a ucontext field.
#pragma once

#if defined(__x86_64__) && defined(__linux__)
#include "arch/code_patch_x86_64.h"
#include "arch/cycle_counter_x86_64.h"
#include "arch/jmpbuf_x86_64.h"
#include "arch/signal_frame_x86_64.h"
#include "arch/single_step_x86_64.h"
#include "arch/syscall_x86_64_linux.h"
#include "arch/thread_pointer_x86_64.h"
#else
#error "ptshim: no arch/ support for this CPU and ABI yet"
#endif

#include "arch/context.h"
