/* void* ptshim_call_with_trap_flag(const void* fn, void* arg)
 * Calls fn(arg) with the trap flag set (arch/single_step_x86_64.h). A popfq
 * that sets the flag traps only after the instruction that follows it, so
 * the first trap comes after the call: at fn's first instruction, before it
 * runs. */
        .text
        .globl  ptshim_call_with_trap_flag
        .hidden ptshim_call_with_trap_flag
        .type   ptshim_call_with_trap_flag, @function
        .p2align 4
ptshim_call_with_trap_flag:
        .cfi_startproc
        subq    $8, %rsp                /* fn gets the stack aligned as by a call */
        .cfi_adjust_cfa_offset 8
        movq    %rdi, %rax
        movq    %rsi, %rdi
        pushfq
        .cfi_adjust_cfa_offset 8
        orq     $0x100, (%rsp)
        popfq
        .cfi_adjust_cfa_offset -8
        call    *%rax
        addq    $8, %rsp
        .cfi_adjust_cfa_offset -8
        ret
        .cfi_endproc
        .size   ptshim_call_with_trap_flag, .-ptshim_call_with_trap_flag
        .section .note.GNU-stack,"",@progbits
