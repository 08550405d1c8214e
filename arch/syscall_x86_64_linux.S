/* ptshim's own `syscall; ret`, the site every raw system call of ptshim's
 * calls until start-up finds the same bytes inside libc
 * (arch/syscall_x86_64_linux.h). No frame: on entry the number is in rax,
 * the arguments in rdi, rsi, rdx, r10, r8, r9; rcx and r11 are clobbered, as
 * by the instruction itself.
 */
        .text
        .globl  ptshim_own_syscall_site
        .hidden ptshim_own_syscall_site
        .type   ptshim_own_syscall_site, @function
ptshim_own_syscall_site:
        .cfi_startproc
        syscall
        ret
        .cfi_endproc
        .size   ptshim_own_syscall_site, .-ptshim_own_syscall_site

        .data
        .p2align 3
        .globl  ptshim_syscall_site
        .hidden ptshim_syscall_site
        .type   ptshim_syscall_site, @object
ptshim_syscall_site:
        .quad   ptshim_own_syscall_site
        .size   ptshim_syscall_site, 8

        .section .note.GNU-stack,"",@progbits
