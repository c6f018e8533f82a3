/* common_proc.c: spawn, exit codes, exec failure, wait with a deadline. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "tap.h"

int
main(void)
{
  cut_err e;
  pid_t pid;
  int st;
  char *ok_argv[] = {"sh", "-c", "exit 7", NULL};
  tap_is_int(cut_spawn(ok_argv, NULL, &pid, &e), 0, "spawn sh");
  tap_is_int(cut_wait_timeout(pid, 5000, &st, &e), 0, "wait within the deadline");
  tap_is_int(cut_exit_code(st), 7, "exit code 7");
  char *missing[] = {"/nonexistent/cutaway-nope", NULL};
  tap_is_int(cut_spawn(missing, NULL, &pid, &e), -1, "exec failure reported to the parent");
  tap_is_int(e.errnum, ENOENT, "with the child's errno");
  tap_ok(strstr(e.msg, "exec /nonexistent/cutaway-nope") != NULL, "naming the program: %s", e.msg);
  char *sleeper[] = {"sleep", "30", NULL};
  tap_is_int(cut_spawn(sleeper, NULL, &pid, &e), 0, "spawn sleep");
  tap_is_int(cut_wait_timeout(pid, 100, &st, &e), -1, "timeout");
  tap_is_int(e.errnum, ETIMEDOUT, "ETIMEDOUT");
  tap_ok(kill(pid, 0) == 0, "the child is left running for the caller");
  kill(pid, SIGKILL);
  tap_is_int(cut_wait_timeout(pid, -1, &st, &e), 0, "wait forever");
  tap_is_int(cut_exit_code(st), 128 + SIGKILL, "killed: 128+signal");
  int p[2];
  if (pipe(p) < 0)
    return 1;
  cut_spawn_opts o = CUT_SPAWN_INHERIT;
  o.stdout_fd = p[1];
  char *echo[] = {"sh", "-c", "echo hi; ls /proc/self/fd | wc -l", NULL};
  cut_spawn(echo, &o, &pid, &e);
  close(p[1]);
  char buf[64] = {0};
  ssize_t n = 0, r;
  while ((r = read(p[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0)
    n += r;
  close(p[0]);
  cut_wait_timeout(pid, 5000, &st, &e);
  tap_ok(strncmp(buf, "hi\n", 3) == 0, "stdout redirected");
  tap_ok(atoi(buf + 3) <= 4, "only stdio (+ the listing's own fd) open in the child: %s", buf + 3);
  return tap_done();
}
