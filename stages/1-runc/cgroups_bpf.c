/* cgroups_bpf.c: the device allow/deny list on cgroup v2.
 *
 * cgroup v2 has no devices.allow file: the kernel instead runs an eBPF
 * program of type BPF_PROG_TYPE_CGROUP_DEVICE, attached to the cgroup, on
 * every open(2) or mknod(2) of a device node, and denies the access when
 * the program returns 0.  This file compiles the OCI list into such a
 * program (as runc's libcontainer/cgroups/devices/devicefilter.go and crun's
 * ebpf.c do) and loads and attaches it with the raw bpf(2) syscall.
 *
 * The program sees struct bpf_cgroup_dev_ctx { access_type, major, minor },
 * where access_type = (access << 16) | type.  OCI rules apply in order, a
 * later rule overriding an earlier one, so the program tests them from the
 * last to the first and returns the verdict of the first that matches.
 * When none matches, the answer is "allow": that is what a fresh v1 devices
 * cgroup does too, and why every real config starts with "deny all". */
#include "cgroups_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "trace.h"

#define MAX_INSNS 4096

typedef struct prog {
  struct bpf_insn insn[MAX_INSNS];
  size_t n;
} prog;

static void
emit(prog *p, struct bpf_insn i)
{
  if (p->n < MAX_INSNS)
    p->insn[p->n] = i;
  p->n++;
}

#define INSN(c, d, s, o, imm_)                                                                     \
  ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (imm_)})
/* r_dst = *(u32 *)(r_src + off) */
#define LDX_W(d, s, off) INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, off, 0)
#define MOV_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, v) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, v)
#define AND_IMM(d, v) INSN(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, v)
#define RSH_IMM(d, v) INSN(BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, v)
#define JNE_IMM(d, v, off) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, off, v)
#define JEQ_IMM(d, v, off) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, off, v)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static int
access_bits(const char *a)
{
  int b = 0;
  b |= strchr(a, 'm') ? BPF_DEVCG_ACC_MKNOD : 0;
  b |= strchr(a, 'r') ? BPF_DEVCG_ACC_READ : 0;
  b |= strchr(a, 'w') ? BPF_DEVCG_ACC_WRITE : 0;
  return b;
}

/* One rule: a run of "if this differs, skip to the next rule" tests, then
 * "return verdict".  Registers: r2 type, r3 access, r4 major, r5 minor. */
static bool
emit_rule(prog *p, const cg_dev_rule *r)
{
  size_t skips[4], ns = 0;
  int acc = access_bits(r->access);
  int all = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
  if (r->type != 'a') {
    skips[ns++] = p->n;
    emit(p, JNE_IMM(2, r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, 0));
  }
  if (acc != all) {
    /* allow: every requested bit must be granted; deny: any bit denied. */
    emit(p, MOV_REG(1, 3));
    emit(p, AND_IMM(1, r->allow ? ~acc & all : acc));
    skips[ns++] = p->n;
    emit(p, r->allow ? JNE_IMM(1, 0, 0) : JEQ_IMM(1, 0, 0));
  }
  if (r->type != 'a' && r->major >= 0) {
    skips[ns++] = p->n;
    emit(p, JNE_IMM(4, (int)r->major, 0));
  }
  if (r->type != 'a' && r->minor >= 0) {
    skips[ns++] = p->n;
    emit(p, JNE_IMM(5, (int)r->minor, 0));
  }
  emit(p, MOV_IMM(0, r->allow ? 1 : 0));
  emit(p, EXIT());
  for (size_t i = 0; i < ns; i++)
    if (skips[i] < MAX_INSNS)
      p->insn[skips[i]].off = (short)(p->n - skips[i] - 1);
  return ns == 0; /* matches every access: nothing after it can run */
}

static int
compile(const cJSON *devices, prog *p, size_t *rules, cut_err *err)
{
  size_t n = (size_t)cJSON_GetArraySize(devices);
  cg_dev_rule *r = calloc(n ? n : 1, sizeof *r);
  if (r == NULL)
    return cut_error(err, ENOMEM, "linux.resources.devices");
  for (size_t i = 0; i < n; i++)
    if (cg_dev_rule_parse(cJSON_GetArrayItem(devices, (int)i), i, &r[i], err) < 0) {
      free(r);
      return -1;
    }
  p->n = 0;
  emit(p, LDX_W(2, 1, 0)); /* access_type */
  emit(p, AND_IMM(2, 0xffff));
  emit(p, LDX_W(3, 1, 0));
  emit(p, RSH_IMM(3, 16));
  emit(p, LDX_W(4, 1, 4)); /* major */
  emit(p, LDX_W(5, 1, 8)); /* minor */
  /* The verifier rejects unreachable code, so stop after a rule that
   * matches everything ("deny all"): the default is never reached. */
  bool total = false;
  for (size_t i = n; i > 0 && !total; i--)
    total = emit_rule(p, &r[i - 1]);
  if (!total) {
    emit(p, MOV_IMM(0, 1));
    emit(p, EXIT());
  }
  free(r);
  *rules = n;
  if (p->n > MAX_INSNS)
    return cut_error(err, E2BIG, "linux.resources.devices: %zu rules make too long a program", n);
  return 0;
}

static long
sys_bpf(int cmd, union bpf_attr *attr)
{
  return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static int
load(const prog *p, size_t rules, cut_err *err)
{
  static char log[4096];
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (unsigned long)p->insn;
  attr.insn_cnt = (unsigned)p->n;
  attr.license = (unsigned long)"GPL";
  attr.log_buf = (unsigned long)log;
  attr.log_size = sizeof log;
  attr.log_level = 1;
  log[0] = '\0';
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "bpf", TA_STR("cmd", "BPF_PROG_LOAD"),
              TA_STR("type", "BPF_PROG_TYPE_CGROUP_DEVICE"), TA_INT("rules", rules),
              TA_INT("insns", p->n));
  int fd = (int)trace_end_sys(&sp, sys_bpf(BPF_PROG_LOAD, &attr));
  if (fd < 0) {
    int e = errno;
    /* The verifier's reason is the line before its "processed N insns". */
    char *why = strstr(log, "\nprocessed ");
    if (why) {
      *why = '\0';
      why = strrchr(log, '\n') ? strrchr(log, '\n') + 1 : log;
    } else {
      log[strcspn(log, "\n")] = '\0';
      why = log;
    }
    return cut_error(err, e, "load the device filter (%zu rules)%s%s", rules, why[0] ? ": " : "",
                     why);
  }
  return fd;
}

static int
attach(int prog_fd, const char *dir, cut_err *err)
{
  int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0)
    return cut_error(err, errno, "open %s", dir);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (unsigned)cg;
  attr.attach_bpf_fd = (unsigned)prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = 0; /* one program per cgroup: a new one replaces it */
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "bpf", TA_STR("cmd", "BPF_PROG_ATTACH"),
              TA_STR("attach_type", "BPF_CGROUP_DEVICE"), TA_STR("path", dir));
  long r = trace_end_sys(&sp, sys_bpf(BPF_PROG_ATTACH, &attr));
  int e = errno;
  close(cg);
  if (r < 0)
    return cut_error(err, e, "attach the device filter to %s", dir);
  return 0;
}

int
cg_bpf_devices(const cJSON *devices, const char *dir_path, cut_err *err)
{
  prog *p = malloc(sizeof *p);
  size_t rules = 0;
  if (p == NULL)
    return cut_error(err, ENOMEM, "device filter");
  int r = compile(devices, p, &rules, err);
  if (r == 0 && dir_path) {
    int fd = load(p, rules, err);
    r = fd < 0 ? -1 : attach(fd, dir_path, err);
    if (fd >= 0)
      close(fd); /* the attachment keeps the program alive */
  }
  free(p);
  return r;
}
