// A classic-BPF seccomp filter for bubblewrap's `--seccomp FD`: model-written programs may start
// threads but no other process, and may not reach the kernel interfaces that matter most for
// escapes (ptrace, new namespaces, mounts, keyrings, bpf, perf, userfaultfd, io_uring).

/** Syscall numbers of one architecture, and its `AUDIT_ARCH_*` value. */
interface SyscallTable {
  /** `AUDIT_ARCH_X86_64` or `AUDIT_ARCH_AARCH64`. */
  audit: number;
  /** Whether syscall numbers with the x32 bit (0x40000000) must be refused (x86-64 only). */
  x32: boolean;
  clone: number;
  /** Refused with EPERM: fork, vfork (x86-64), ptrace, mount, umount2, unshare, setns, … */
  denied: number[];
}

// Numbers from the kernel's arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h.
const TABLES: Record<string, SyscallTable> = {
  x64: {
    audit: 0xc000003e,
    x32: true,
    clone: 56,
    // fork, vfork, ptrace, mount, umount2, pivot_root, unshare, setns, add_key, request_key, keyctl,
    // perf_event_open, bpf, userfaultfd, io_uring_setup/enter/register, process_vm_readv/writev
    denied: [57, 58, 101, 165, 166, 155, 272, 308, 248, 249, 250, 298, 321, 323, 425, 426, 427, 310, 311],
  },
  arm64: {
    audit: 0xc00000b7,
    x32: false,
    clone: 220,
    // ptrace, mount, umount2, pivot_root, unshare, setns, add_key, request_key, keyctl,
    // perf_event_open, bpf, userfaultfd, io_uring_setup/enter/register, process_vm_readv/writev
    denied: [117, 40, 39, 41, 97, 268, 217, 218, 219, 241, 280, 282, 425, 426, 427, 270, 271],
  },
};

const CLONE3 = 435; // same number on every architecture
const CLONE_THREAD = 0x10000;
const EPERM = 1;
const ENOSYS = 38; // for clone3, so that glibc falls back to clone, whose flags can be checked

// BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
const LOAD_WORD = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JUMP_EQUAL = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JUMP_AT_LEAST = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const JUMP_ANY_BIT = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const RETURN = 0x06; // BPF_RET | BPF_K
const ALLOW = 0x7fff0000;
const KILL = 0x80000000; // SECCOMP_RET_KILL_PROCESS
const errno = (code: number) => 0x00050000 | code; // SECCOMP_RET_ERRNO

// Offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6] (low word first: both
// supported architectures are little-endian).
const NR = 0;
const ARCH = 4;
const FIRST_ARGUMENT = 16;

/**
 * The seccomp filter for this machine's architecture as bytes of `struct sock_filter`
 * (8 bytes per instruction), or `undefined` on an architecture without a table (then the sandbox
 * runs without one). Another architecture than the one compiled for kills the process; `clone`
 * without `CLONE_THREAD`, `fork` and `vfork` fail with EPERM, `clone3` with ENOSYS (glibc then
 * uses `clone`); the other listed calls fail with EPERM.
 *
 * @param arch - Node's `process.arch`
 * @example
 * ```ts
 * const filter = seccompFilter(process.arch); // Buffer for bwrap --seccomp, or undefined
 * ```
 */
export function seccompFilter(arch: string): Buffer | undefined {
  const table = TABLES[arch];
  if (table === undefined) return undefined;
  const program: [number, number, number, number][] = [
    [LOAD_WORD, 0, 0, ARCH],
    [JUMP_EQUAL, 1, 0, table.audit],
    [RETURN, 0, 0, KILL],
    [LOAD_WORD, 0, 0, NR],
  ];
  if (table.x32) program.push([JUMP_AT_LEAST, 0, 1, 0x40000000], [RETURN, 0, 0, KILL]);
  for (const call of table.denied) program.push([JUMP_EQUAL, 0, 1, call], [RETURN, 0, 0, errno(EPERM)]);
  program.push(
    [JUMP_EQUAL, 0, 1, CLONE3],
    [RETURN, 0, 0, errno(ENOSYS)],
    [JUMP_EQUAL, 1, 0, table.clone],
    [RETURN, 0, 0, ALLOW],
    [LOAD_WORD, 0, 0, FIRST_ARGUMENT],
    [JUMP_ANY_BIT, 0, 1, CLONE_THREAD],
    [RETURN, 0, 0, ALLOW],
    [RETURN, 0, 0, errno(EPERM)],
  );
  const bytes = Buffer.alloc(8 * program.length);
  program.forEach(([code, jumpTrue, jumpFalse, value], index) => {
    bytes.writeUInt16LE(code, 8 * index);
    bytes.writeUInt8(jumpTrue, 8 * index + 2);
    bytes.writeUInt8(jumpFalse, 8 * index + 3);
    bytes.writeUInt32LE(value >>> 0, 8 * index + 4);
  });
  return bytes;
}
