/* common_error.c: the error idiom: cause + errno, context chain, truncation. */
#include <errno.h>
#include <string.h>

#include "error.h"
#include "tap.h"

int
main(void)
{
  cut_err e = {0};
  tap_is_int(cut_error(&e, ENOENT, "open %s", "/x"), -1, "cut_error returns -1");
  tap_is_str(e.msg, "open /x: No such file or directory", "cause with strerror");
  tap_is_int(e.errnum, ENOENT, "errno kept");
  cut_wrap(&e, "create %s", "web");
  cut_wrap(&e, "cutaway-runc");
  tap_is_str(e.msg, "cutaway-runc: create web: open /x: No such file or directory",
             "wraps read outermost first");
  tap_is_int(e.errnum, ENOENT, "wrapping keeps errno");
  cut_error(&e, 0, "plain");
  tap_is_str(e.msg, "plain", "errnum 0: no strerror");
  /* Truncation: the innermost detail is cut, the line stays terminated. */
  char big[2000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  cut_error(&e, EPERM, "%s", big);
  tap_is_int(strlen(e.msg), CUT_ERR_MAX - 1, "a long cause is truncated to the buffer");
  cut_error(&e, EPERM, "inner");
  cut_wrap(&e, "%s", big);
  tap_ok(strlen(e.msg) == CUT_ERR_MAX - 1 && strncmp(e.msg, "xxxx", 4) == 0,
         "a long context keeps the outermost text");
  cut_error(&e, EPERM, "%.*s", 1000, big);
  cut_wrap(&e, "outer");
  tap_ok(strncmp(e.msg, "outer: xxx", 10) == 0 && strlen(e.msg) == CUT_ERR_MAX - 1,
         "wrapping a near-full message cuts its tail");
  tap_is_int(cut_wrap(NULL, "x"), -1, "NULL err is allowed");
  cut_err_clear(&e);
  tap_ok(e.msg[0] == '\0' && e.errnum == 0, "clear");
  return tap_done();
}
