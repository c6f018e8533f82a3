/* registry_redirect.c: the redirect rules of the registry client
 * (reg_redirect_next in client.c): a Location is resolved against the URL
 * that answered; credentials never follow to another scheme://host:port and
 * never come back once they left; https -> http, other schemes and an 11th
 * redirect are refused.  Also the retry classification and backoff. */
#include <stdlib.h>
#include <string.h>

#include "stages/2-registry/client.h"
#include "tap.h"

#define REG "http://127.0.0.1:5000"
#define REGS "https://registry.example"

/* One hop: returns the resolved URL ("" when refused) and the credential
 * verdict after it. */
static int
hop(const char *url, const char *loc, const char *base, int n, bool *cross, char *next,
    cut_err *err)
{
  next[0] = '\0';
  return reg_redirect_next(url, loc, base, n, cross, next, 4096, err);
}

static void
test_origins(void)
{
  char next[4096];
  cut_err err;
  bool cross = false;
  tap_ok(hop(REG "/v2/a/blobs/x", "/v2/a/blobs/y", REG, 1, &cross, next, &err) == 0 &&
             strcmp(next, REG "/v2/a/blobs/y") == 0 && !cross,
         "a relative Location stays on the registry: credentials go");
  cross = false;
  tap_ok(hop(REG "/v2/a/blobs/x", "http://127.0.0.1:5001/blob", REG, 1, &cross, next, &err) == 0 &&
             cross,
         "another port is another origin: no credentials");
  cross = false;
  tap_ok(hop(REG "/v2/a/blobs/x", "http://cdn.example:5000/blob", REG, 1, &cross, next, &err) ==
                 0 &&
             cross,
         "another host: no credentials");
  cross = false;
  tap_ok(hop(REG "/v2/a/blobs/x", "https://127.0.0.1:5000/blob", REG, 1, &cross, next, &err) == 0 &&
             cross,
         "another scheme (http -> https) on the same host:port: no credentials");
  cross = false;
  tap_ok(hop(REGS "/v2/a", "https://REGISTRY.Example:443/v2/b", REGS, 1, &cross, next, &err) == 0 &&
             !cross,
         "host case and the default port do not make another origin");
  cross = true;
  tap_ok(hop("http://cdn.example/x", REG "/v2/a/blobs/y", REG, 2, &cross, next, &err) == 0 && cross,
         "back on the registry after leaving it: still no credentials");
  cross = false;
  tap_ok(hop("http://[::1]:5000/v2/", "http://[::1]:5000/v2/x", "http://[::1]:5000", 1, &cross,
             next, &err) == 0 &&
             !cross,
         "IPv6 literal origins compare equal");
}

static void
test_refusals(void)
{
  char next[4096];
  cut_err err;
  bool cross = false;
  tap_ok(hop(REGS "/v2/a/blobs/x", "http://registry.example/blob", REGS, 1, &cross, next, &err) < 0,
         "https -> http is refused");
  tap_ok(strstr(err.msg, "https to http") != NULL, "... with a clear error (%s)", err.msg);
  tap_ok(hop(REGS "/v2/a/blobs/x", "http://cdn.example/blob", REGS, 1, &cross, next, &err) < 0,
         "https -> http on another host is refused too");
  tap_ok(hop(REG "/v2/a", "file:///etc/passwd", REG, 1, &cross, next, &err) < 0,
         "a redirect to file:// is refused");
  tap_ok(hop(REG "/v2/a", "ftp://127.0.0.1/x", REG, 1, &cross, next, &err) < 0,
         "a redirect to ftp:// is refused");
  tap_ok(strstr(err.msg, "scheme ftp refused") != NULL, "... naming the scheme (%s)", err.msg);
  tap_ok(hop(REG "/v2/a", "", REG, 1, &cross, next, &err) < 0, "an empty Location is refused");
  int i, r = 0;
  for (i = 1; i <= 10 && r == 0; i++)
    r = hop(REG "/v2/a", "/v2/a", REG, i, &cross, next, &err);
  tap_ok(r == 0, "10 redirects are followed");
  tap_ok(hop(REG "/v2/a", "/v2/a", REG, 11, &cross, next, &err) < 0, "the 11th is refused");
  tap_ok(strstr(err.msg, "more than 10 redirects") != NULL, "... with a clear error (%s)", err.msg);
}

static void
test_retry_rules(void)
{
  reg_xfer x;
  memset(&x, 0, sizeof x);
  x.status = 200;
  tap_ok(reg_xfer_retryable(&x, CURLE_RECV_ERROR), "a reset is worth another try");
  tap_ok(reg_xfer_retryable(&x, CURLE_PARTIAL_FILE), "a body cut short is worth another try");
  tap_ok(!reg_xfer_retryable(&x, CURLE_OK), "a 200 is not retried");
  x.status = 503;
  tap_ok(reg_xfer_retryable(&x, CURLE_OK), "a 503 is retried");
  x.status = 404;
  tap_ok(!reg_xfer_retryable(&x, CURLE_OK), "a 404 is final");
  x.status = 200;
  x.too_big = true;
  tap_ok(!reg_xfer_retryable(&x, CURLE_WRITE_ERROR), "a body larger than allowed is final");
  x.too_big = false;
  x.stalled = true;
  tap_ok(reg_xfer_retryable(&x, CURLE_ABORTED_BY_CALLBACK), "a stall is retried");
  tap_ok(reg_backoff_ms(1) == 100 && reg_backoff_ms(2) == 200 && reg_backoff_ms(4) == 800,
         "backoff doubles from 100 ms");
  tap_ok(reg_backoff_ms(50) == 3200, "... and is capped");
}

int
main(void)
{
  setenv("CUTAWAY_TRACE", "off", 1); /* no trace is checked here */
  test_origins();
  test_refusals();
  test_retry_rules();
  return tap_done();
}
