/* ctd_events.c: the event bus of cutaway-containerd (containerd's
 * events/exchange plus the Subscribe API).
 *
 * Every state change is published on a topic named as containerd names it
 * (/tasks/create, /tasks/start, /tasks/exit, /tasks/oom, /containers/create,
 * /images/create, ...).  The last 512 events stay in a ring; GET /v1/events
 * streams them as JSON lines from the moment the client subscribes (or
 * from ?since=SEQ).  Each event is also an instant trace event, so the
 * trace shows *when* containerd told its subscribers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctd.h"
#include "trace.h"

#define RING_LEN (sizeof(((ctd_bus *)0)->ring) / sizeof(ctd_event))

void
ctd_bus_init(ctd_bus *b)
{
  memset(b, 0, sizeof *b);
  pthread_mutex_init(&b->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&b->cv, &ca);
  b->next_seq = 1;
}

void
ctd_publish(ctd *c, const char *topic, cJSON *event)
{
  char ts[40];
  ctd_now_rfc3339(ts);
  cJSON *env = cJSON_CreateObject();
  cJSON_AddStringToObject(env, "timestamp", ts);
  cJSON_AddStringToObject(env, "topic", topic);
  cJSON_AddItemToObject(env, "event", event ? event : cJSON_CreateObject());
  char *text = cJSON_PrintUnformatted(env);
  char *ev = cJSON_PrintUnformatted(cJSON_GetObjectItem(env, "event"));
  trace_event("event", TA_STR("topic", topic), TA_JSON("event", ev ? ev : "{}"));
  free(ev);
  cJSON_Delete(env);
  if (text == NULL)
    return;
  size_t n = strlen(text);
  char *line = malloc(n + 2);
  if (line == NULL) {
    free(text);
    return;
  }
  memcpy(line, text, n);
  line[n] = '\n';
  line[n + 1] = '\0';
  free(text);
  ctd_bus *b = &c->bus;
  pthread_mutex_lock(&b->mu);
  ctd_event *slot = &b->ring[b->next_seq % RING_LEN];
  free(slot->line);
  slot->seq = b->next_seq++;
  slot->line = line;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

void
ctd_bus_close(ctd_bus *b)
{
  pthread_mutex_lock(&b->mu);
  b->closing = true;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

/* One subscriber: reads the ring from `seq` on. */
struct sub {
  ctd *c;
  httpd_req *req;
  uint64_t seq;
  char *topic_prefix;
  char *pending;
  size_t pending_len, pending_off;
  int idle_rounds;
};

static ssize_t
sub_read(void *cls, char *buf, size_t max)
{
  struct sub *s = cls;
  ctd_bus *b = &s->c->bus;
  while (s->pending == NULL) {
    pthread_mutex_lock(&b->mu);
    for (;;) {
      if (b->closing) {
        pthread_mutex_unlock(&b->mu);
        return 0;
      }
      /* Skip what fell out of the ring. */
      if (b->next_seq > RING_LEN && s->seq < b->next_seq - RING_LEN)
        s->seq = b->next_seq - RING_LEN;
      if (s->seq < b->next_seq)
        break;
      struct timespec dl;
      clock_gettime(CLOCK_MONOTONIC, &dl);
      dl.tv_sec += 1;
      pthread_cond_timedwait(&b->cv, &b->mu, &dl);
      if (s->seq >= b->next_seq && ++s->idle_rounds >= 15) {
        /* A heartbeat line every ~15 s idle: finds clients that left. */
        s->idle_rounds = 0;
        pthread_mutex_unlock(&b->mu);
        buf[0] = '\n';
        return 1;
      }
    }
    ctd_event *ev = &b->ring[s->seq % RING_LEN];
    s->seq++;
    bool want = true;
    if (s->topic_prefix && ev->line) {
      char needle[256];
      snprintf(needle, sizeof needle, "\"topic\":\"%s", s->topic_prefix);
      want = strstr(ev->line, needle) != NULL;
    }
    if (want && ev->line) {
      s->pending = strdup(ev->line);
      s->pending_len = strlen(s->pending);
      s->pending_off = 0;
    }
    pthread_mutex_unlock(&b->mu);
  }
  size_t n = s->pending_len - s->pending_off;
  if (n > max)
    n = max;
  memcpy(buf, s->pending + s->pending_off, n);
  s->pending_off += n;
  if (s->pending_off == s->pending_len) {
    free(s->pending);
    s->pending = NULL;
  }
  return (ssize_t)n;
}

static void
sub_done(void *cls)
{
  struct sub *s = cls;
  free(s->pending);
  free(s->topic_prefix);
  free(s);
}

void
ctd_events_serve(ctd *c, httpd_req *req)
{
  struct sub *s = calloc(1, sizeof *s);
  s->c = c;
  s->req = req;
  const char *since = httpd_query(req, "since");
  const char *topic = httpd_query(req, "topic");
  if (topic && *topic)
    s->topic_prefix = strdup(topic);
  pthread_mutex_lock(&c->bus.mu);
  s->seq = since ? strtoull(since, NULL, 10) : c->bus.next_seq;
  pthread_mutex_unlock(&c->bus.mu);
  httpd_reply_stream(req, 200, "application/x-ndjson", sub_read, s, sub_done);
}
