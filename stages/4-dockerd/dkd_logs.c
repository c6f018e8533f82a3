/* dkd_logs.c: GET /containers/{id}/logs (dockerd's daemon/logs.go with
 * the json-file driver's reader).
 *
 * The shim writes the container's output to <id>-json.log, one JSON object
 * per line as Docker's json-file driver does:
 *     {"log":"hi\n","stream":"stdout","time":"2026-11-29T16:49:33.030209579Z"}
 * and this endpoint reads it back: each entry becomes one stdcopy frame
 * (stream 1 or 2; raw bytes for a TTY container), optionally prefixed by
 * its timestamp; `tail=N` starts N entries before the end; `follow=1`
 * keeps reading as the file grows, until the container stops. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dkd.h"

struct log_reader {
  dkd *d;
  dkd_container *k;
  FILE *f;
  bool follow, timestamps, tty;
  bool want[3]; /* [1] stdout, [2] stderr */
  long skip;    /* entries to skip first (tail) */
  int conn_fd;
  char *line;
  size_t cap;
  char *pending; /* an encoded entry that did not fit the caller's buffer */
  size_t pending_len, pending_off;
};

/* Entries in the file, for tail=N. */
static long
count_lines(FILE *f)
{
  long n = 0;
  int c;
  while ((c = getc(f)) != EOF)
    n += c == '\n';
  rewind(f);
  return n;
}

static bool
still_running(struct log_reader *r)
{
  pthread_mutex_lock(&r->d->lock);
  bool running =
      r->k->state == DKD_RUNNING || r->k->state == DKD_PAUSED || r->k->starting || r->k->has_task;
  pthread_mutex_unlock(&r->d->lock);
  return running;
}

/* One json-file line into r->pending (a frame); 0 when it is filtered. */
static int
encode_entry(struct log_reader *r, const char *line)
{
  cJSON *o = cJSON_Parse(line);
  const char *log = cJSON_GetStringValue(cJSON_GetObjectItem(o, "log"));
  const char *stream = cJSON_GetStringValue(cJSON_GetObjectItem(o, "stream"));
  const char *time = cJSON_GetStringValue(cJSON_GetObjectItem(o, "time"));
  int s = stream && strcmp(stream, "stderr") == 0 ? 2 : 1;
  if (log == NULL || !r->want[s]) {
    cJSON_Delete(o);
    return 0;
  }
  size_t n = strlen(log), tlen = r->timestamps && time ? strlen(time) + 1 : 0;
  size_t hdr = r->tty ? 0 : 8;
  free(r->pending);
  r->pending = malloc(hdr + tlen + n);
  if (!r->tty)
    dkd_stdcopy_header((unsigned char *)r->pending, s, (uint32_t)(tlen + n));
  if (tlen) {
    memcpy(r->pending + hdr, time, tlen - 1);
    r->pending[hdr + tlen - 1] = ' ';
  }
  memcpy(r->pending + hdr + tlen, log, n);
  r->pending_len = hdr + tlen + n;
  r->pending_off = 0;
  cJSON_Delete(o);
  return 1;
}

/* The next complete line; 0 at the (current) end of the file. */
static int
next_line(struct log_reader *r)
{
  for (;;) {
    long pos = ftell(r->f);
    ssize_t n = getline(&r->line, &r->cap, r->f);
    if (n <= 0) {
      clearerr(r->f);
      return 0;
    }
    if (r->line[n - 1] != '\n') {
      /* The shim is writing this line right now: read it whole later. */
      fseek(r->f, pos, SEEK_SET);
      return 0;
    }
    if (r->skip > 0) {
      r->skip--;
      continue;
    }
    if (encode_entry(r, r->line))
      return 1;
  }
}

static ssize_t
log_read(void *cls, char *buf, size_t max)
{
  struct log_reader *r = cls;
  for (;;) {
    if (r->pending_off < r->pending_len) {
      size_t n = r->pending_len - r->pending_off < max ? r->pending_len - r->pending_off : max;
      memcpy(buf, r->pending + r->pending_off, n);
      r->pending_off += n;
      return (ssize_t)n;
    }
    if (r->f && next_line(r))
      continue;
    if (!r->follow || !still_running(r)) {
      /* One more pass: the last lines may have landed meanwhile. */
      if (r->follow && r->f && next_line(r))
        continue;
      return 0;
    }
    if (httpd_fd_gone(r->conn_fd))
      return -1;
    usleep(50 * 1000);
    if (r->f == NULL)
      r->f = fopen(r->k->log_path, "r");
  }
}

static void
log_free(void *cls)
{
  struct log_reader *r = cls;
  if (r->f)
    fclose(r->f);
  free(r->line);
  free(r->pending);
  free(r);
}

void
dkd_h_containers_logs(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  bool out = httpd_query_bool(req, "stdout"), err = httpd_query_bool(req, "stderr");
  if (!out && !err) {
    httpd_reply_error(req, 400, "You must choose at least one stream");
    return;
  }
  pthread_mutex_lock(&d->lock);
  dkd_container *k = dkd_container_req(d, req);
  if (k == NULL) {
    pthread_mutex_unlock(&d->lock);
    return;
  }
  struct log_reader *r = calloc(1, sizeof *r);
  r->d = d;
  r->k = k;
  r->tty = cJSON_IsTrue(cJSON_GetObjectItem(k->config, "Tty"));
  r->f = fopen(k->log_path, "r");
  pthread_mutex_unlock(&d->lock);
  r->follow = httpd_query_bool(req, "follow");
  r->timestamps = httpd_query_bool(req, "timestamps");
  r->want[1] = out;
  r->want[2] = err;
  const char *tail = httpd_query(req, "tail");
  if (tail && *tail && strcmp(tail, "all") != 0 && r->f) {
    long want = strtol(tail, NULL, 10), total = count_lines(r->f);
    r->skip = want >= 0 && total > want ? total - want : 0;
  }
  r->conn_fd = httpd_peer_fd(req);
  /* dockerd sends no Content-Type here; the CLI does not need one. */
  httpd_reply_stream(req, 200, NULL, log_read, r, log_free);
}
