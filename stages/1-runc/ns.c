/* ns.c: see ns.h. */
#include "ns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "trace.h"

void
rc_clone_flags_text(int flags, char *buf, size_t len)
{
  static const struct {
    int flag;
    const char *name;
  } names[] = {
      {CLONE_NEWUSER, "CLONE_NEWUSER"},     {CLONE_NEWPID, "CLONE_NEWPID"},
      {CLONE_NEWNS, "CLONE_NEWNS"},         {CLONE_NEWNET, "CLONE_NEWNET"},
      {CLONE_NEWIPC, "CLONE_NEWIPC"},       {CLONE_NEWUTS, "CLONE_NEWUTS"},
      {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"}, {0x00000080, "CLONE_NEWTIME"},
      {CLONE_PARENT, "CLONE_PARENT"},
  };
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (!(flags & names[i].flag))
      continue;
    int n = snprintf(buf + used, len - used, "%s%s", used ? "|" : "", names[i].name);
    if (n < 0 || (size_t)n >= len - used)
      break;
    used += (size_t)n;
  }
  if (used == 0)
    snprintf(buf, len, "0");
}

int
rc_ns_new_flags(const rc_spec *spec)
{
  int flags = 0;
  for (size_t i = 0; i < spec->n_namespaces; i++)
    if (spec->namespaces[i].path == NULL)
      flags |= rc_ns_clone_flag(spec->namespaces[i].type);
  return flags;
}

void
rc_ns_close_joins(int fds[RC_NS_COUNT])
{
  for (int i = 0; i < RC_NS_COUNT; i++) {
    if (fds[i] >= 0)
      close(fds[i]);
    fds[i] = -1;
  }
}

int
rc_ns_open_joins(const rc_spec *spec, int fds[RC_NS_COUNT], cut_err *err)
{
  for (int i = 0; i < RC_NS_COUNT; i++)
    fds[i] = -1;
  for (size_t i = 0; i < spec->n_namespaces; i++) {
    const rc_namespace *ns = &spec->namespaces[i];
    if (ns->path == NULL)
      continue;
    int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      rc_ns_close_joins(fds);
      return cut_error(err, e, "linux.namespaces: %s path %s", rc_ns_name(ns->type), ns->path);
    }
    fds[ns->type] = fd;
    /* NS_GET_NSTYPE (Linux 4.11) returns the CLONE_NEW* flag of the
     * namespace behind the fd; anything else is not a namespace file. */
    int t = ioctl(fd, NS_GET_NSTYPE);
    if (t < 0 || t != rc_ns_clone_flag(ns->type)) {
      rc_ns_close_joins(fds);
      return cut_error(err, 0, "linux.namespaces: %s is not a %s namespace", ns->path,
                       rc_ns_name(ns->type));
    }
  }
  return 0;
}

int
rc_ns_join(int fd, enum rc_ns_type type, const char *path, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "setns", TA_STR("type", rc_ns_name(type)),
              TA_STR("path", path ? path : ""));
  if (trace_end_sys(&sp, setns(fd, rc_ns_clone_flag(type))) < 0)
    return cut_error(err, errno, "join %s namespace %s", rc_ns_name(type), path ? path : "");
  return 0;
}

int
rc_ns_unshare(int flags, cut_err *err)
{
  char text[160];
  rc_clone_flags_text(flags, text, sizeof text);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "unshare", TA_STR("flags", text));
  if (trace_end_sys(&sp, unshare(flags)) < 0)
    return cut_error(err, errno, "unshare %s", text);
  return 0;
}
