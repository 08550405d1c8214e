/* The context switch for x86-64, System V ABI: no system call, no signal mask.
 *
 * A suspended context is one stack pointer. What it points to, on that
 * context's own stack:
 *
 *          higher addresses
 *        +--------------------------+
 *   +56  | return address           |  into ptshim_context_swap's caller,
 *        +--------------------------+  or ptshim_context_start for a new one
 *   +48  | rbp                      |
 *   +40  | rbx                      |
 *   +32  | r12                      |
 *   +24  | r13                      |
 *   +16  | r14                      |
 *    +8  | r15                      |
 *    +6  | zero (16 bits)           |
 *    +4  | x87 control word (16 b)  |
 *    +0  | mxcsr (32 bits)          |  <- saved stack pointer
 *        +--------------------------+
 *          lower addresses
 *
 * Only what the ABI says a call preserves is saved: the callee-saved
 * registers and the two floating-point control words (rounding mode,
 * exception masks). Everything else is dead across a call. The thread
 * pointer (fs base) and the signal mask are the caller's business
 * (arch/context.cc and core/signal/mask.cc).
 *
 * arch/context_x86_64_sysv.cc (SwitchFrame) reads this layout; keep the two
 * in step.
 */
        .text

/* void ptshim_context_swap(void** save_sp, void* load_sp)
 * Saves the running context, storing its stack pointer in *save_sp, and
 * resumes the one whose saved stack pointer is load_sp. */
        .globl  ptshim_context_swap
        .hidden ptshim_context_swap
        .type   ptshim_context_swap, @function
        .p2align 4
ptshim_context_swap:
        .cfi_startproc
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbx, 0
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r12, 0
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r13, 0
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r14, 0
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r15, 0
        subq    $8, %rsp
        .cfi_adjust_cfa_offset 8
        movq    $0, (%rsp)
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    (%rsp), %rax

        movq    %rsp, (%rdi)
        movq    %rsi, %rsp

        /* Loading the control words is slow (microcoded) and threads almost
         * never change them: they are loaded only when they differ. */
        cmpq    (%rsp), %rax
        je      1f
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
1:
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .cfi_endproc
        .size   ptshim_context_swap, .-ptshim_context_swap

/* Where a new context's first switch returns to. The prepared frame put the
 * entry function in r12; the stack pointer is 16-byte aligned here, so the
 * call gives the entry the alignment the ABI promises. The entry never
 * returns. rip is marked undefined: unwinders stop at this frame. */
        .globl  ptshim_context_start
        .hidden ptshim_context_start
        .type   ptshim_context_start, @function
        .p2align 4
ptshim_context_start:
        .cfi_startproc
        .cfi_undefined rip
        xorl    %ebp, %ebp
        call    *%r12
        ud2
        .cfi_endproc
        .size   ptshim_context_start, .-ptshim_context_start

/* void ptshim_call_on_stack(void (*fn)(void*), void* arg, void* stack_top)
 * Calls fn(arg) on another stack (for a report about a stack that has
 * overflowed) and returns to the caller's stack afterwards. The frame
 * pointer keeps the way back, and the CFI says so, so the unwinder walks
 * from fn back into the caller's frames. */
        .globl  ptshim_call_on_stack
        .hidden ptshim_call_on_stack
        .type   ptshim_call_on_stack, @function
        .p2align 4
ptshim_call_on_stack:
        .cfi_startproc
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        movq    %rsp, %rbp
        .cfi_def_cfa_register rbp
        andq    $-16, %rdx
        movq    %rdx, %rsp
        movq    %rdi, %rax
        movq    %rsi, %rdi
        call    *%rax
        movq    %rbp, %rsp
        popq    %rbp
        .cfi_def_cfa rsp, 8
        ret
        .cfi_endproc
        .size   ptshim_call_on_stack, .-ptshim_call_on_stack

        .section .note.GNU-stack,"",@progbits
