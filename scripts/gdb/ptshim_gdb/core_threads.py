"""A copy of an x86-64 Linux core file with more threads in it, for gdb.

A ptshim process runs every user thread on one kernel thread, so its core
holds one NT_PRSTATUS note and gdb sees one thread; gdb will not write
registers of a core file. write_core_with_threads() copies the core and adds
one NT_PRSTATUS note per extra thread, so that `core-file COPY` gives gdb a
real thread for each, with the registers the caller read out of the user
threads' saved contexts. Nothing here knows ptshim: only ELF and Linux notes.

How gdb/BFD turn notes into threads (binutils elf.c, elf64-x86-64.c; gdb
corelow.c): every NT_PRSTATUS of 336 bytes becomes a section ".reg/<pr_pid>"
(pr_pid read as the LWP), the first one also ".reg", and gdb makes one thread
per ".reg/<lwp>" section in note order, the one whose section is ".reg" being
the current one. A later NT_FPREGSET or NT_X86_XSTATE note belongs to the
NT_PRSTATUS before it. Hence:
- The new notes go into a new PT_NOTE segment after the original ones, whose
  notes stay byte for byte: the original threads keep their numbers (1..n),
  LWPs, signal and FP state; the new threads are n+1, n+2, ... in the order
  given. An LWP must be 1..2**31-1 (BFD prints it with %d; 0 would mean the
  process id) and unlike every other's.
- BFD takes the core's signal from the LAST NT_PRSTATUS, so each new note
  copies the first one's pr_info/pr_cursig (the kernel gives every thread the
  dumping signal too), and its pr_sigpend, pr_sighold, pr_ppid, pr_pgrp and
  pr_sid; times are zero, pr_fpvalid 0.
- No NT_FPREGSET/NT_X86_XSTATE for the new threads: gdb 13 does not require
  them ("floating-point" registers are optional; only ".reg" is required), so
  their x87/SSE/AVX registers read as <unavailable>, which is the truth, and
  bt, frame, info locals and the general registers work (checked by
  scripts/gdb/check-core-threads.sh).

Layouts (glibc 2.36 <sys/procfs.h>, <sys/user.h>, checked with a C program
printing sizeof/offsetof): struct elf_prstatus is 336 bytes; pr_info (3 ints)
at 0, pr_cursig (short) 12, pr_sigpend 16, pr_sighold 24, pr_pid 32,
pr_ppid 36, pr_pgrp 40, pr_sid 44, four struct timeval 48..111, pr_reg 112
(27 x 8 bytes, user_regs_struct order: REGISTERS below), pr_fpvalid 328.
Notes have a 4-byte aligned name ("CORE\\0") and descriptor.

The program header table cannot grow in place (the first PT_LOAD data follows
it), so the new PT_NOTE data and a new table (old entries + the PT_NOTE) are
appended past the end of everything the core refers to, and e_phoff/e_phnum
patched. PN_XNUM: when the count reaches 0xffff, e_phnum becomes PN_XNUM and
the count goes into section header 0's sh_info (what the kernel writes and
BFD reads); a core without section headers gets a one-entry table of a null
section appended for it. The copy keeps the holes of a sparse core
(SEEK_DATA/SEEK_HOLE, copy_file_range where the kernel offers it).

Only the standard library; no gdb import, so it runs and is tested outside
gdb as well.
"""

import errno
import os
import struct

# pr_reg's slots in struct user_regs_struct order, by gdb's amd64 names.
REGISTERS = (
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
    "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
    "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
)
# Taken from the core's first thread when the caller does not give them: a
# frame is decoded as 64-bit code by cs, and eflags should look like a real one.
_FROM_FIRST_THREAD = ("cs", "ss", "eflags")

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")  # Elf64_Ehdr
_PHDR = struct.Struct("<IIQQQQQQ")  # Elf64_Phdr
_SHDR = struct.Struct("<IIQQQQIIQQ")  # Elf64_Shdr
_NHDR = struct.Struct("<III")  # Elf64_Nhdr

_ET_CORE = 4
_EM_X86_64 = 62
_PT_NOTE = 4
_PN_XNUM = 0xFFFF
_NT_PRSTATUS = 1

_PRSTATUS_SIZE = 336
_PR_PID = 32
_PR_TIMES = 48  # pr_utime .. pr_cstime, up to pr_reg
_PR_REG = 112
_PR_FPVALID = 328
_REG = struct.Struct("<27Q")
assert _PR_REG + _REG.size + 8 == _PRSTATUS_SIZE

_LWP_MAX = 2**31 - 1


class CoreFileError(ValueError):
    """The file is not an ELF64 little-endian x86-64 core this module can extend."""


def write_core_with_threads(src_core, dst_core, threads):
    """Copy src_core to dst_core with one more thread per (lwp, regs) of threads.

    regs maps gdb's amd64 register names (REGISTERS) to integers; missing ones
    are 0, except cs, ss and eflags, which default to the first thread's.
    Raises CoreFileError for a file that is not an x86-64 ELF core, ValueError
    for a bad thread list.
    """
    threads = list(threads)
    if os.path.exists(dst_core) and os.path.samefile(src_core, dst_core):
        raise ValueError("write_core_with_threads: source and destination are the same file")
    with open(src_core, "rb") as src:
        core = _Core(src, src_core)
        notes = b"".join(_prstatus_note(core.first_prstatus, lwp, regs)
                         for lwp, regs in _checked(threads, core))
        try:
            with open(dst_core, "wb") as dst:
                _copy_sparse(src.fileno(), dst.fileno(), core.size)
                _append_threads(dst, core, notes)
        except BaseException:
            try:
                os.unlink(dst_core)
            except OSError:
                pass
            raise


def _checked(threads, core):
    seen = set(core.lwps)
    for item in threads:
        lwp, regs = item
        if not isinstance(lwp, int) or not 1 <= lwp <= _LWP_MAX:
            raise ValueError("thread LWP %r: must be an integer in 1..%d" % (lwp, _LWP_MAX))
        if lwp in seen:
            raise ValueError("thread LWP %d: the core already has a thread with it" % lwp)
        seen.add(lwp)
        unknown = set(regs) - set(REGISTERS)
        if unknown:
            raise ValueError("thread LWP %d: unknown registers %s" % (lwp, ", ".join(sorted(unknown))))
        yield lwp, regs


class _Core:
    """What of a core file the copy needs: header, program headers, first thread."""

    def __init__(self, f, name):
        self.size = os.fstat(f.fileno()).st_size
        raw = f.read(_EHDR.size)
        if len(raw) < 16 or raw[:4] != b"\x7fELF":
            raise CoreFileError("%s: not an ELF file" % name)
        if len(raw) < _EHDR.size or raw[4] != 2 or raw[5] != 1:
            raise CoreFileError("%s: not a 64-bit little-endian ELF file" % name)
        self.ehdr = list(_EHDR.unpack(raw))
        (_, e_type, e_machine, _, _, e_phoff, e_shoff, _, _,
         e_phentsize, e_phnum, e_shentsize, e_shnum, _) = self.ehdr
        if e_type != _ET_CORE:
            raise CoreFileError("%s: an ELF file but not a core file (e_type %d)" % (name, e_type))
        if e_machine != _EM_X86_64:
            raise CoreFileError("%s: a core file but not of x86-64 (e_machine %d)" % (name, e_machine))
        if e_phentsize != _PHDR.size:
            raise CoreFileError("%s: program header entries of %d bytes" % (name, e_phentsize))
        self.shdr0 = None
        if e_shoff:
            if e_shentsize != _SHDR.size:
                raise CoreFileError("%s: section header entries of %d bytes" % (name, e_shentsize))
            self.shdr0 = list(_SHDR.unpack(_pread(f, e_shoff, _SHDR.size, name)))
        self.phnum = e_phnum
        if e_phnum == _PN_XNUM:
            if self.shdr0 is None:
                raise CoreFileError("%s: e_phnum is PN_XNUM but there is no section header 0" % name)
            self.phnum = self.shdr0[7]  # sh_info
        self.phdrs = _pread(f, e_phoff, self.phnum * _PHDR.size, name)
        # Everything the file refers to ends here; appended data goes after it
        # (a truncated core's missing tail stays a hole, not our notes).
        self.end = max(self.size, _EHDR.size, e_phoff + len(self.phdrs))
        if e_shoff:
            shnum = e_shnum or self.shdr0[5]  # SHN_UNDEF: the count is in sh_size
            self.end = max(self.end, e_shoff + shnum * _SHDR.size)
        self.lwps = []
        self.first_prstatus = None
        for i in range(self.phnum):
            p_type, _, p_offset, _, _, p_filesz, _, _ = _PHDR.unpack_from(self.phdrs, i * _PHDR.size)
            self.end = max(self.end, p_offset + p_filesz)
            if p_type == _PT_NOTE:
                for n_type, owner, desc in _notes(_pread(f, p_offset, p_filesz, name)):
                    if n_type == _NT_PRSTATUS and owner == b"CORE" and len(desc) == _PRSTATUS_SIZE:
                        self.lwps.append(struct.unpack_from("<i", desc, _PR_PID)[0])
                        if self.first_prstatus is None:
                            self.first_prstatus = desc
        if self.first_prstatus is None:
            raise CoreFileError("%s: no x86-64 NT_PRSTATUS note (no thread to model new ones on)" % name)


def _pread(f, offset, size, name):
    data = os.pread(f.fileno(), size, offset)
    if len(data) != size:
        raise CoreFileError("%s: truncated (%d bytes at offset %d not in the file)" % (name, size, offset))
    return data


def _align(n, a):
    return (n + a - 1) & ~(a - 1)


def _notes(data):
    """(type, owner without its NUL, descriptor) of each note; 4-byte alignment, as Linux writes them."""
    pos = 0
    while pos + _NHDR.size <= len(data):
        namesz, descsz, n_type = _NHDR.unpack_from(data, pos)
        name_at = pos + _NHDR.size
        desc_at = name_at + _align(namesz, 4)
        end = desc_at + _align(descsz, 4)
        if desc_at + descsz > len(data):
            return
        yield n_type, data[name_at : name_at + namesz].rstrip(b"\0"), data[desc_at : desc_at + descsz]
        pos = end


def _note(owner, n_type, desc):
    name = owner + b"\0"
    return (
        _NHDR.pack(len(name), len(desc), n_type)
        + name.ljust(_align(len(name), 4), b"\0")
        + desc.ljust(_align(len(desc), 4), b"\0")
    )


def _prstatus_note(template, lwp, regs):
    first = dict(zip(REGISTERS, _REG.unpack_from(template, _PR_REG)))
    values = [regs.get(r, first[r] if r in _FROM_FIRST_THREAD else 0) & (2**64 - 1) for r in REGISTERS]
    desc = bytearray(template)  # pr_info, pr_cursig, pr_sigpend, pr_sighold, ids
    struct.pack_into("<i", desc, _PR_PID, lwp)
    desc[_PR_TIMES:_PR_REG] = bytes(_PR_REG - _PR_TIMES)
    _REG.pack_into(desc, _PR_REG, *values)
    struct.pack_into("<i", desc, _PR_FPVALID, 0)
    return _note(b"CORE", _NT_PRSTATUS, bytes(desc))


def _append_threads(dst, core, notes):
    note_off = _align(core.end, 8)
    phdr_off = _align(note_off + len(notes), 8)
    phdrs = core.phdrs + _PHDR.pack(_PT_NOTE, 0, note_off, 0, 0, len(notes), 0, 4)
    phnum = core.phnum + 1
    ehdr = list(core.ehdr)
    ehdr[5] = phdr_off  # e_phoff
    fd = dst.fileno()
    os.pwrite(fd, notes, note_off)
    os.pwrite(fd, phdrs, phdr_off)
    if phnum >= _PN_XNUM:
        ehdr[10] = _PN_XNUM
        if core.shdr0 is None:
            # The kernel's layout for many segments: one null section whose
            # sh_info is the program header count.
            shdr_off = _align(phdr_off + len(phdrs), 8)
            os.pwrite(fd, _SHDR.pack(0, 0, 0, 0, 0, 0, 0, phnum, 0, 0), shdr_off)
            ehdr[6], ehdr[11], ehdr[12], ehdr[13] = shdr_off, _SHDR.size, 1, 0
        else:
            shdr0 = list(core.shdr0)
            shdr0[7] = phnum
            os.pwrite(fd, _SHDR.pack(*shdr0), ehdr[6])
    else:
        ehdr[10] = phnum
    os.pwrite(fd, _EHDR.pack(*ehdr), 0)


def _copy_sparse(src, dst, size):
    """Copy the data extents of src (holes stay holes), then set dst's size."""
    offset = 0
    while offset < size:
        try:
            data = os.lseek(src, offset, os.SEEK_DATA)
            hole = os.lseek(src, data, os.SEEK_HOLE)
        except OSError as e:
            if e.errno == errno.ENXIO:  # nothing but a hole from offset on
                break
            if e.errno not in (errno.EINVAL, errno.EOPNOTSUPP):
                raise
            data, hole = offset, size  # no hole support: all data
        _copy_range(src, dst, data, min(hole, size) - data)
        offset = hole
    os.ftruncate(dst, size)


def _copy_range(src, dst, offset, length):
    end = offset + length
    use_kernel = hasattr(os, "copy_file_range")
    while offset < end:
        chunk = min(end - offset, 1 << 24)
        n = 0
        if use_kernel:
            try:
                n = os.copy_file_range(src, dst, chunk, offset, offset)
            except OSError as e:
                if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM):
                    raise
                use_kernel = False
        if n == 0:
            buf = os.pread(src, min(chunk, 1 << 20), offset)
            if not buf:
                raise CoreFileError("core file shrank while being copied")
            n = os.pwrite(dst, buf, offset)
        offset += n
