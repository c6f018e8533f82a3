/* proc.c: see proc.h. */
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
cut_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
  return (int)syscall(SYS_pidfd_open, pid, 0);
#else
  errno = ENOSYS;
  return -1;
#endif
}

void
cut_close_fds_from(int from)
{
#ifdef SYS_close_range
  if (syscall(SYS_close_range, from, ~0U, 0) == 0)
    return;
#endif
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) {
    for (int fd = from; fd < 1024; fd++)
      close(fd);
    return;
  }
  int dfd = dirfd(d);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    int fd = atoi(de->d_name);
    if (fd >= from && fd != dfd)
      close(fd);
  }
  closedir(d);
}

static int
dup_or_null(int fd, int target)
{
  if (fd == -2)
    return 0;
  if (fd == -1) {
    int nfd = open("/dev/null", O_RDWR);
    if (nfd < 0)
      return -1;
    if (nfd != target) {
      dup2(nfd, target);
      close(nfd);
    }
    return 0;
  }
  if (fd == target) {
    /* Clear close-on-exec: dup2 onto itself would not. */
    int fl = fcntl(fd, F_GETFD);
    return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
  }
  return dup2(fd, target) < 0 ? -1 : 0;
}

int
cut_spawn(char *const argv[], const cut_spawn_opts *opts, pid_t *pid, cut_err *err)
{
  cut_spawn_opts def = CUT_SPAWN_INHERIT;
  if (opts == NULL)
    opts = &def;
  /* A pipe with O_CLOEXEC tells the parent whether execvp succeeded: it is
   * closed by a successful exec, or carries errno when exec failed. */
  int sync[2];
  if (pipe2(sync, O_CLOEXEC) < 0)
    return cut_error(err, errno, "spawn %s: pipe", argv[0]);
  pid_t child = fork();
  if (child < 0) {
    int e = errno;
    close(sync[0]);
    close(sync[1]);
    return cut_error(err, e, "spawn %s: fork", argv[0]);
  }
  if (child == 0) {
    close(sync[0]);
    if (opts->new_session)
      setsid();
    if (dup_or_null(opts->stdin_fd, 0) < 0 || dup_or_null(opts->stdout_fd, 1) < 0 ||
        dup_or_null(opts->stderr_fd, 2) < 0)
      goto fail;
    if (opts->cwd && chdir(opts->cwd) < 0)
      goto fail;
    /* Keep only stdio and the sync pipe, which exec closes by itself. */
    if (sync[1] != 3 && dup2(sync[1], 3) == 3) {
      close(sync[1]);
      sync[1] = 3;
      fcntl(3, F_SETFD, FD_CLOEXEC);
    }
    cut_close_fds_from(4);
    if (opts->envp)
      execvpe(argv[0], argv, opts->envp);
    else
      execvp(argv[0], argv);
  fail : {
    int e = errno;
    ssize_t w = write(sync[1], &e, sizeof e);
    (void)w;
    _exit(127);
  }
  }
  close(sync[1]);
  int child_errno = 0;
  ssize_t r;
  do
    r = read(sync[0], &child_errno, sizeof child_errno);
  while (r < 0 && errno == EINTR);
  close(sync[0]);
  if (r == (ssize_t)sizeof child_errno) {
    waitpid(child, NULL, 0);
    return cut_error(err, child_errno, "exec %s", argv[0]);
  }
  *pid = child;
  return 0;
}

static long long
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
cut_wait_timeout(pid_t pid, int timeout_ms, int *status, cut_err *err)
{
  long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
  int pfd = timeout_ms < 0 ? -1 : cut_pidfd_open(pid);
  for (;;) {
    pid_t r = waitpid(pid, status, timeout_ms < 0 ? 0 : WNOHANG);
    if (r == pid)
      break;
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      if (pfd >= 0)
        close(pfd);
      return cut_error(err, e, "wait for pid %d", (int)pid);
    }
    long long left = deadline - now_ms();
    if (left <= 0) {
      if (pfd >= 0)
        close(pfd);
      return cut_error(err, ETIMEDOUT, "wait for pid %d", (int)pid);
    }
    if (pfd >= 0) {
      struct pollfd p = {.fd = pfd, .events = POLLIN};
      poll(&p, 1, (int)left);
    } else {
      struct timespec ts = {0, 2 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
  }
  if (pfd >= 0)
    close(pfd);
  return 0;
}

int
cut_exit_code(int status)
{
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 255;
}
