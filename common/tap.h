/* tap.h: a tiny Test Anything Protocol producer for C unit tests.
 *
 * `prove` runs every unit test binary and reads what this prints:
 *     1..N            the plan (printed by tap_done() when no plan was given)
 *     ok 3 - name     a passing assertion
 *     not ok 4 - name a failing one, with "# got/expected" diagnostics
 *     ok 5 # SKIP why only for what the host lacks
 * Header-only so every test just includes it. */
#ifndef CUTAWAY_TAP_H
#define CUTAWAY_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count_;
static int tap_failed_;

static inline void
tap_plan(int n)
{
  printf("1..%d\n", n);
  fflush(stdout);
}

static inline int __attribute__((format(printf, 2, 3))) tap_ok(int cond, const char *fmt, ...)
{
  va_list ap;
  tap_count_++;
  if (!cond)
    tap_failed_++;
  printf("%sok %d - ", cond ? "" : "not ", tap_count_);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
  return cond;
}

#define tap_is_int(got, want, ...)                                                                 \
  do {                                                                                             \
    long long g_ = (long long)(got), w_ = (long long)(want);                                       \
    if (!tap_ok(g_ == w_, __VA_ARGS__))                                                            \
      printf("#   got: %lld\n#   expected: %lld\n", g_, w_);                                       \
  } while (0)

#define tap_is_str(got, want, ...)                                                                 \
  do {                                                                                             \
    const char *g_ = (got), *w_ = (want);                                                          \
    int same_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;                                       \
    if (!tap_ok(same_, __VA_ARGS__))                                                               \
      printf("#   got: '%s'\n#   expected: '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)");       \
  } while (0)

static inline void
tap_skip(const char *why)
{
  printf("ok %d # SKIP %s\n", ++tap_count_, why);
  fflush(stdout);
}

static inline void __attribute__((format(printf, 1, 2))) tap_diag(const char *fmt, ...)
{
  va_list ap;
  printf("# ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

/* Print the plan after the fact and return the exit status for main(). */
static inline int
tap_done(void)
{
  printf("1..%d\n", tap_count_);
  fflush(stdout);
  return tap_failed_ ? 1 : 0;
}

#endif
