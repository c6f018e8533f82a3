/* dkd_events.c: GET /events, what `docker events` prints (dockerd's
 * daemon/events and its events.Events ring).
 *
 * Each change of a container, image or volume is published as one JSON
 * object in Docker's shape:
 *   {"status":"start","id":"<id>","from":"busybox","Type":"container",
 *    "Action":"start","Actor":{"ID":"<id>","Attributes":{"image":"busybox",
 *    "name":"web"}},"scope":"local","time":1764435813,"timeNano":...}
 * kept in a ring of the last 256, and streamed to every /events client as
 * it happens (`since=` replays what the ring still holds, `until=` ends
 * the stream).  Filters are not applied. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkd.h"

void
dkd_events_init(dkd *d)
{
  pthread_mutex_init(&d->events.mu, NULL);
  pthread_cond_init(&d->events.cv, NULL);
}

void
dkd_event(dkd *d, const char *type, const char *action, const char *id, const char *name,
          const char *image, const char *extra)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  cJSON *o = cJSON_CreateObject();
  if (strcmp(type, "container") == 0) { /* the pre-1.22 fields the CLI still prints */
    cJSON_AddStringToObject(o, "status", action);
    cJSON_AddStringToObject(o, "id", id);
    if (image)
      cJSON_AddStringToObject(o, "from", image);
  }
  cJSON_AddStringToObject(o, "Type", type);
  cJSON_AddStringToObject(o, "Action", action);
  cJSON *actor = cJSON_AddObjectToObject(o, "Actor");
  cJSON_AddStringToObject(actor, "ID", id);
  cJSON *attrs = cJSON_AddObjectToObject(actor, "Attributes");
  if (image)
    cJSON_AddStringToObject(attrs, "image", image);
  if (name)
    cJSON_AddStringToObject(attrs, "name", name[0] == '/' ? name + 1 : name);
  const char *eq = extra ? strchr(extra, '=') : NULL;
  if (eq) {
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)(eq - extra), extra);
    cJSON_AddStringToObject(attrs, key, eq + 1);
  }
  cJSON_AddStringToObject(o, "scope", "local");
  cJSON_AddNumberToObject(o, "time", (double)ts.tv_sec);
  /* An int64 for the CLI: cJSON would print a double this large as 1.7e+18. */
  char nano[32];
  snprintf(nano, sizeof nano, "%lld", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  cJSON_AddRawToObject(o, "timeNano", nano);
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  char *line = NULL;
  if (text == NULL || asprintf(&line, "%s\n", text) < 0)
    line = NULL;
  free(text);
  if (line == NULL)
    return;
  dkd_events *ev = &d->events;
  pthread_mutex_lock(&ev->mu);
  size_t slot = ev->next % DKD_EVENTS;
  free(ev->lines[slot]);
  ev->lines[slot] = line;
  ev->times[slot] = (double)ts.tv_sec + ts.tv_nsec / 1e9;
  ev->next++;
  pthread_cond_broadcast(&ev->cv);
  pthread_mutex_unlock(&ev->mu);
}

struct subscriber {
  dkd *d;
  uint64_t seq; /* the next event to send */
  double until; /* 0: none */
  int conn_fd;
};

/* One event per call; blocks until there is one. */
static ssize_t
events_read(void *cls, char *buf, size_t max)
{
  struct subscriber *s = cls;
  dkd_events *ev = &s->d->events;
  pthread_mutex_lock(&ev->mu);
  for (;;) {
    if (s->seq + DKD_EVENTS < ev->next) /* fell behind: skip what was overwritten */
      s->seq = ev->next - DKD_EVENTS;
    if (s->seq < ev->next) {
      size_t slot = s->seq % DKD_EVENTS;
      if (s->until > 0 && ev->times[slot] > s->until)
        break;
      size_t n = strlen(ev->lines[slot]);
      if (n > max) /* never: an event is far smaller than a chunk */
        break;
      memcpy(buf, ev->lines[slot], n);
      s->seq++;
      pthread_mutex_unlock(&ev->mu);
      return (ssize_t)n;
    }
    if (s->until > 0 && (double)time(NULL) > s->until)
      break;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&ev->cv, &ev->mu, &ts);
    if (httpd_fd_gone(s->conn_fd)) {
      pthread_mutex_unlock(&ev->mu);
      return -1;
    }
  }
  pthread_mutex_unlock(&ev->mu);
  return 0;
}

void
dkd_h_events(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  struct subscriber *s = calloc(1, sizeof *s);
  s->d = d;
  const char *since = httpd_query(req, "since"), *until = httpd_query(req, "until");
  s->until = until ? strtod(until, NULL) : 0;
  pthread_mutex_lock(&d->events.mu);
  s->seq = d->events.next;
  if (since) {
    /* Replay what the ring still holds from `since` on. */
    double from = strtod(since, NULL);
    uint64_t first = d->events.next > DKD_EVENTS ? d->events.next - DKD_EVENTS : 0;
    for (s->seq = first; s->seq < d->events.next; s->seq++)
      if (d->events.times[s->seq % DKD_EVENTS] >= from)
        break;
  }
  pthread_mutex_unlock(&d->events.mu);
  s->conn_fd = httpd_peer_fd(req);
  httpd_reply_stream(req, 200, "application/json", events_read, s, free);
}
