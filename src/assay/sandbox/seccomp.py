"""A seccomp filter for sandboxed programs: the kernel keyring syscalls fail with EPERM.

The user keyring of the sandbox's uid belongs to the sandbox's user namespace, which every
run shares: a key one program adds would be there for the next run to read (a channel from
one sample to another that no file or process clean-up sees). Programs have no use for the
keyring, so ``add_key``, ``request_key`` and ``keyctl`` are refused, as Docker's default
profile does. Everything else is allowed: the namespaces, limits and uid already confine it.

The filter is classic BPF (``struct sock_filter``), built here so that no library is needed;
bwrap loads it (``--seccomp FD``) on the cold path, and the warm executor's job process
(``launchers/warm.py``) with ``prctl(PR_SET_SECCOMP)``.
"""

from __future__ import annotations

import errno
import platform
import struct
from functools import cache

# <linux/filter.h>, <linux/seccomp.h>, <linux/audit.h>
BPF_LD_W_ABS = 0x20
BPF_JMP_JEQ_K = 0x15
BPF_JMP_JGE_K = 0x35
BPF_RET_K = 0x06
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
ARCH_OFFSET, NR_OFFSET = 4, 0  # in struct seccomp_data
X32_SYSCALL_BIT = 0x40000000

# Keyring syscall numbers (add_key, request_key, keyctl) by audit arch.
KEYRING_SYSCALLS = {
    0xC000003E: (248, 249, 250),  # x86_64
    0x40000003: (286, 287, 288),  # i386 (int 0x80 from an x86_64 program)
    0xC00000B7: (217, 218, 219),  # aarch64
}
NATIVE_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}


def _instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


@cache
def keyring_filter() -> bytes:
    """The filter program: for each known arch, its keyring syscalls get EPERM; the x32 ABI
    (x86_64 syscall numbers with bit 30 set) is refused as a whole."""
    deny = SECCOMP_RET_ERRNO | errno.EPERM
    program: list[bytes] = []
    for arch, numbers in KEYRING_SYSCALLS.items():
        checks = [_instruction(BPF_LD_W_ABS, 0, 0, NR_OFFSET)]
        if arch == NATIVE_ARCH["x86_64"]:
            checks.append(_instruction(BPF_JMP_JGE_K, len(numbers) + 1, 0, X32_SYSCALL_BIT))
        for index, number in enumerate(numbers):
            # Equal: jump to the deny below the remaining checks; else fall through.
            checks.append(_instruction(BPF_JMP_JEQ_K, len(numbers) - index, 0, number))
        checks.append(_instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
        checks.append(_instruction(BPF_RET_K, 0, 0, deny))
        # Load the arch; not this one: skip this arch's checks.
        program.append(_instruction(BPF_LD_W_ABS, 0, 0, ARCH_OFFSET))
        program.append(_instruction(BPF_JMP_JEQ_K, 0, len(checks), arch))
        program.extend(checks)
    program.append(_instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    return b"".join(program)


def supported() -> bool:
    """True on the architectures the filter knows (elsewhere no filter is applied)."""
    return platform.machine() in NATIVE_ARCH
