/* error.h: the one error idiom of cutaway.
 *
 * Modelled on crun's libcrun_error_t: a fallible function takes a
 * `cut_err *err` as its last argument and returns a negative value on
 * failure after filling `err`.  Callers either pass the failure up unchanged
 * (`if (r < 0) return r;`) or add the context they know with cut_wrap(), so a
 * failure deep in the stack prints as one line that reads outermost first:
 *
 *     cutaway-runc: create web: mount proc on /proc: Operation not permitted
 *
 * The message lives in a fixed buffer inside the struct: no allocation, so
 * the idiom is also safe in a child between clone() and execve(), where
 * malloc may not be.
 */
#ifndef CUTAWAY_ERROR_H
#define CUTAWAY_ERROR_H

#include <stddef.h>

#define CUT_ERR_MAX 1024

typedef struct cut_err {
  int errnum;            /* errno of the root cause, 0 if none */
  char msg[CUT_ERR_MAX]; /* "context: context: cause: strerror" */
} cut_err;

/* Fill err with a formatted cause; when errnum != 0, ": strerror(errnum)" is
 * appended.  Always returns -1 so callers can `return cut_error(...)`. */
void cut_error_fill(cut_err *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A (GNU statement-expression) macro, so the -1 is visible at each call
 * site and to the analyzers, and a bare call needs no (void). */
// clang-format off
#define cut_error(...) ({ cut_error_fill(__VA_ARGS__); -1; })
// clang-format on

/* Prepend context to an error already filled: "ctx: <old message>".
 * Returns -1.  A NULL err is allowed and ignored. */
void cut_wrap_fill(cut_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// clang-format off
#define cut_wrap(...) ({ cut_wrap_fill(__VA_ARGS__); -1; })
// clang-format on

/* Reset to "no error". */
void cut_err_clear(cut_err *err);

/* Print "prog: message\n" to stderr in one write(2). */
void cut_err_print(const char *prog, const cut_err *err);

/* Exit status convention for command-line tools: 1 on any failure. */
#define CUT_EXIT_FAILURE 1

#endif
