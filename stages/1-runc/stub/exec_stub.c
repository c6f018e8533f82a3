/* exec_stub.c: the last program cutaway-runc runs inside a container,
 * whose only job is to run the user's program:
 *
 *     argv = { "cutaway-exec", PATH, ARGV0, ARGV1, ... }
 *     execve(PATH, &argv[2], envp)
 *
 * Why a program that does nothing (CVE-2019-5736): whatever process makes
 * the final execve(2) of a container is, until then, the runtime's binary,
 * and a container whose program is a script starting "#!/proc/self/exe"
 * makes the kernel run "the current binary" again, inside the container,
 * where the container's processes can reach it through /proc/<pid>/exe and
 * overwrite it on the host.  The runtime therefore execs this stub first,
 * from a sealed memfd (exec.c: rc_exec_final): /proc/self/exe is then an
 * immutable in-memory copy of these few hundred bytes, and the host's
 * binary is never the current binary of anything in the container.  runc
 * does the same job by re-executing all of itself from a memfd; this costs
 * one execve of a tiny static program instead.
 *
 * Freestanding: no libc, no dynamic loader (the container may have
 * neither), raw system calls for x86-64 and arm64.  The build embeds the
 * stripped binary into the runtime as a byte array (module.mk). */

#if defined(__x86_64__)
#define NR_WRITE 1
#define NR_EXECVE 59
#define NR_EXIT_GROUP 231
static long
sys3(long n, long a, long b, long c)
{
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
/* The kernel starts us with argc, argv..., NULL, envp..., NULL on the stack. */
__asm__(".text\n.global _start\n_start:\n"
        "  xor %rbp, %rbp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call stub_main\n  hlt\n");
#elif defined(__aarch64__)
#define NR_WRITE 64
#define NR_EXECVE 221
#define NR_EXIT_GROUP 94
static long
sys3(long n, long a, long b, long c)
{
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}
__asm__(".text\n.global _start\n_start:\n  mov x0, sp\n  bl stub_main\n");
#else
#error "exec_stub: no system call glue for this architecture"
#endif

static unsigned long
len(const char *s)
{
  unsigned long n = 0;
  while (s[n])
    n++;
  return n;
}

static void
say(const char *s)
{
  sys3(NR_WRITE, 2, (long)s, (long)len(s));
}

void stub_main(long *sp) __attribute__((noreturn, used));

void
stub_main(long *sp)
{
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  if (argc >= 3) {
    long r = sys3(NR_EXECVE, (long)argv[1], (long)(argv + 2), (long)envp);
    /* Only reached on failure: one line, like the runtime's own errors. */
    char num[24];
    int i = sizeof num - 1;
    num[i] = '\0';
    for (unsigned long e = (unsigned long)-r; i > 0 && (e || i == (int)sizeof num - 1); e /= 10)
      num[--i] = (char)('0' + e % 10);
    say("cutaway-runc: execve ");
    say(argv[1]);
    say(": errno ");
    say(num + i);
    say("\n");
  }
  sys3(NR_EXIT_GROUP, 127, 0, 0);
  for (;;)
    ;
}
