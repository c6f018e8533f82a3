/* registry_unpack_stream.c: unpack_layer_fd() reading a layer from a pipe,
 * as pull.c feeds it while the layer downloads: the bytes arrive slowly in
 * small pieces, decoding runs in its own thread, and the result (files,
 * diff_id, byte counts) is exactly that of the same layer read from a file.
 * Also: an extraction that fails while its writer still holds the pipe
 * open, with nothing more coming, returns at once (the decoder thread is
 * woken and stopped) instead of waiting for the writer. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fixtures/layers/tarbuild.h"
#include "digest.h"
#include "fileutil.h"
#include "stages/2-registry/unpack.h"
#include "tap.h"

static char base[256];

struct slow_writer {
  int fd;
  const char *buf;
  size_t len;
  size_t chunk;   /* bytes per write */
  bool keep_open; /* after the data, hold the pipe open until told */
  int release_fd; /* keep_open: read end of a pipe that says "close now" */
  size_t written;
};

/* Feeds the pipe in small pieces with a pause now and then, so the reader
 * sees short reads and empty-pipe waits. */
static void *
writer_main(void *arg)
{
  struct slow_writer *w = arg;
  for (size_t off = 0, n = 0; off < w->len; n++) {
    size_t k = w->len - off < w->chunk ? w->len - off : w->chunk;
    ssize_t r = write(w->fd, w->buf + off, k);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break; /* EPIPE: the reader stopped */
    off += (size_t)r;
    w->written = off;
    if (n % 64 == 63)
      usleep(200);
  }
  if (w->keep_open) {
    char c;
    while (read(w->release_fd, &c, 1) < 0 && errno == EINTR)
      ;
  }
  close(w->fd);
  return NULL;
}

/* Incompressible bytes (xorshift), so compressed and decoded positions
 * stay close together. */
static char *
noise(size_t len)
{
  char *b = malloc(len);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    b[i] = (char)x;
  }
  return b;
}

static void
make_layer(tb *t, char **big, size_t *big_len)
{
  /* 6 MiB: more than the decoder's ring of buffers holds at once, so
   * both threads wait on each other at some point. */
  *big_len = 6u << 20;
  *big = noise(*big_len);
  TB(t, .path = "etc/", .type = '5', .mode = 0755);
  TB(t, .path = "etc/hostname", .data = "stream\n", .size = 7);
  TB(t, .path = "usr/", .type = '5', .mode = 0755);
  TB(t, .path = "usr/lib/", .type = '5', .mode = 0755);
  TB(t, .path = "usr/lib/big.bin", .data = *big, .size = *big_len, .mode = 0644);
  for (int i = 0; i < 200; i++) {
    char name[64], body[32];
    snprintf(name, sizeof name, "usr/share/f%03d", i);
    int n = snprintf(body, sizeof body, "file %d\n", i);
    TB(t, .path = name, .data = body, .size = (size_t)n); /* copied into the tar */
  }
  TB(t, .path = "usr/bin", .type = '2', .link = "../lib");
  tb_finish(t);
}

static int
open_dir(const char *name)
{
  char p[512];
  snprintf(p, sizeof p, "%s/%s", base, name);
  mkdir(p, 0755);
  return open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static bool
same_file(const char *rel, const void *want, size_t len)
{
  char p[512];
  snprintf(p, sizeof p, "%s/%s", base, rel);
  char *got = NULL;
  size_t n = 0;
  cut_err err;
  bool ok =
      cut_read_file(p, len + 1, &got, &n, &err) == 0 && n == len && memcmp(got, want, len) == 0;
  free(got);
  return ok;
}

static void
test_stream(char filter)
{
  tb t = {0};
  char *big;
  size_t big_len;
  make_layer(&t, &big, &big_len);
  char diff_id[CUT_DIGEST_LEN + 1];
  cut_err err;
  cut_sha256_buf(t.buf, t.len, diff_id, &err);
  char *gz = NULL;
  size_t gz_len = t.len;
  if (filter) {
    tb z = tb_compress(&t, filter);
    gz = z.buf;
    gz_len = z.len;
  }
  const char *what = filter == 'g' ? "gzip" : filter == 'z' ? "zstd" : "plain tar";

  int p[2];
  tap_ok(pipe2(p, O_CLOEXEC) == 0, "%s: a pipe", what);
  struct slow_writer w = {.fd = p[1], .buf = gz ? gz : t.buf, .len = gz_len, .chunk = 4093};
  pthread_t th;
  pthread_create(&th, NULL, writer_main, &w);
  char dname[32];
  snprintf(dname, sizeof dname, "stream-%c", filter ? filter : 'p');
  int dfd = open_dir(dname);
  unpack_opts o = {.mode = UNPACK_FLATTEN,
                   .media_type = filter == 'g'   ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                 : filter == 'z' ? "application/vnd.oci.image.layer.v1.tar+zstd"
                                                 : "application/vnd.oci.image.layer.v1.tar",
                   .diff_id = diff_id,
                   .no_sync = true};
  unpack_stats st;
  int r = unpack_layer_fd(p[0], dfd, &o, &st, &err);
  close(p[0]);
  pthread_join(th, NULL);
  close(dfd);
  tap_ok(r == 0, "%s from a slow pipe in 4 KiB pieces: unpacked (%s)", what, r ? err.msg : "ok");
  tap_ok(strcmp(st.diff_id, diff_id) == 0, "... the diff_id over the decoded stream matches");
  tap_ok(st.compressed_bytes == gz_len, "... every input byte was read (%llu of %zu)",
         (unsigned long long)st.compressed_bytes, gz_len);
  tap_ok(st.bytes == t.len, "... every decoded byte counted (%llu of %zu)",
         (unsigned long long)st.bytes, t.len);
  tap_ok(w.written == gz_len, "... the writer got rid of everything");
  char rel[64];
  snprintf(rel, sizeof rel, "%s/usr/lib/big.bin", dname);
  tap_ok(same_file(rel, big, big_len), "... the 6 MiB file is intact");
  snprintf(rel, sizeof rel, "%s/usr/share/f199", dname);
  tap_ok(same_file(rel, "file 199\n", 9), "... and the last small file too");
  tap_ok(st.files == 206, "... %llu entries", (unsigned long long)st.files);
  free(big);
  if (gz)
    free(gz);
  tb_free(&t);
}

/* The layer breaks the rules after its first megabytes; the writer then
 * goes quiet without closing, as a stalled download would. */
static void
test_fail_while_writer_waits(void)
{
  tb t = {0};
  char *big = noise(2u << 20);
  TB(&t, .path = "ok.bin", .data = big, .size = 2u << 20);
  TB(&t, .path = "../escape", .data = "x", .size = 1);
  TB(&t, .path = "after", .data = big, .size = 1u << 20);
  tb_finish(&t);
  tb z = tb_compress(&t, 'g');
  /* Send the hostile entry and some of what follows, then hold the pipe
   * open: the rest never comes. */
  int p[2], rel[2];
  pipe2(p, O_CLOEXEC);
  pipe2(rel, O_CLOEXEC);
  struct slow_writer w = {.fd = p[1],
                          .buf = z.buf,
                          .len = z.len - (512u << 10),
                          .chunk = 65536,
                          .keep_open = true,
                          .release_fd = rel[0]};
  pthread_t th;
  pthread_create(&th, NULL, writer_main, &w);
  int dfd = open_dir("fail");
  unpack_opts o = {.mode = UNPACK_FLATTEN, .no_sync = true};
  cut_err err;
  int r = unpack_layer_fd(p[0], dfd, &o, NULL, &err);
  tap_ok(r < 0 && strstr(err.msg, "climbs out") != NULL,
         "a hostile entry mid-stream fails the layer (%s)", err.msg);
  tap_ok(true, "... and unpack_layer_fd returned although the writer still holds the pipe");
  char p2[512];
  snprintf(p2, sizeof p2, "%s/escape", base);
  struct stat sb;
  tap_ok(lstat(p2, &sb) < 0, "... nothing written outside the target");
  close(p[0]);
  close(rel[1]); /* let the writer go */
  pthread_join(th, NULL);
  close(rel[0]);
  close(dfd);
  free(z.buf);
  free(big);
  tb_free(&t);
}

int
main(void)
{
  setenv("CUTAWAY_TRACE", "off", 1); /* no trace is checked here */
  signal(SIGPIPE, SIG_IGN);
  snprintf(base, sizeof base, "/tmp/cutaway-unit-stream.XXXXXX");
  if (!mkdtemp(base))
    return 1;
  test_stream('g');
  test_stream('z');
  test_stream(0);
  test_fail_while_writer_waits();
  cut_err err;
  cut_rm_rf(base, &err);
  return tap_done();
}
