/* void ptshim_call_guarded(void (*fn)(void*), void* arg,
 *                          void (*on_unwind)(void*), void* unwind_arg)
 *
 * Calls fn(arg). If an unwind passes out of fn — a forced unwind
 * (pthread_exit, cancellation) or a C++ exception — on_unwind(unwind_arg)
 * runs first and the unwind then goes on (_Unwind_Resume): what a C
 * function's __attribute__((cleanup)) variable does, and how glibc's
 * pthread_once resets its control. The library is built without C++
 * exceptions and links no C++ runtime, so the cleanup is written here with
 * the C personality (libgcc's __gcc_personality_v0) and a cleanup-only LSDA,
 * as GCC emits them for C with -fexceptions.
 *
 * Frame: rbx, rbp, r12 saved (three pushes: the stack is 16-byte aligned at
 * the call); rbp = on_unwind, rbx = unwind_arg, r12 = the exception object
 * in the landing pad. */
        .text
        .globl  ptshim_call_guarded
        .hidden ptshim_call_guarded
        .type   ptshim_call_guarded, @function
        .p2align 4
ptshim_call_guarded:
.Lbegin:
        .cfi_startproc
        .cfi_personality 0x9b, DW.ref.__gcc_personality_v0
        .cfi_lsda 0x1b, .Llsda
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r12, 0
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbx, 0
        movq    %rdi, %rax
        movq    %rsi, %rdi
        movq    %rdx, %rbp
        movq    %rcx, %rbx
.Lcall_begin:
        call    *%rax
.Lcall_end:
        popq    %rbx
        .cfi_remember_state
        .cfi_adjust_cfa_offset -8
        .cfi_restore rbx
        popq    %rbp
        .cfi_adjust_cfa_offset -8
        .cfi_restore rbp
        popq    %r12
        .cfi_adjust_cfa_offset -8
        .cfi_restore r12
        ret
.Llanding_pad:  /* rax: the _Unwind_Exception */
        .cfi_restore_state
        movq    %rax, %r12
        movq    %rbx, %rdi
        call    *%rbp
        movq    %r12, %rdi
        call    _Unwind_Resume@PLT  /* does not return */
        ud2
        .cfi_endproc
        .size   ptshim_call_guarded, .-ptshim_call_guarded

/* The LSDA: one call site, fn's call, whose landing pad is a cleanup
 * (action 0). on_unwind's call and _Unwind_Resume's are in no call site:
 * an unwind out of them finds no handler here. */
        .section .gcc_except_table,"a",@progbits
.Llsda:
        .byte   0xff                    /* @LPStart: the function's start */
        .byte   0xff                    /* no type table */
        .byte   0x1                     /* call sites in uleb128 */
        .uleb128 .Lcall_sites_end - .Lcall_sites
.Lcall_sites:
        .uleb128 .Lcall_begin - .Lbegin
        .uleb128 .Lcall_end - .Lcall_begin
        .uleb128 .Llanding_pad - .Lbegin
        .uleb128 0
.Lcall_sites_end:

/* The personality routine's address, reached pc-relative and indirectly
 * (encoding 0x9b), as the compiler lays it out. */
        .hidden DW.ref.__gcc_personality_v0
        .weak   DW.ref.__gcc_personality_v0
        .section .data.rel.local.DW.ref.__gcc_personality_v0,"awG",@progbits,DW.ref.__gcc_personality_v0,comdat
        .align  8
        .type   DW.ref.__gcc_personality_v0, @object
        .size   DW.ref.__gcc_personality_v0, 8
DW.ref.__gcc_personality_v0:
        .quad   __gcc_personality_v0

        .section .note.GNU-stack,"",@progbits
