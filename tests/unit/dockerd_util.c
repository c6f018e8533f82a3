/* dockerd_util.c: cutawayd's pure helpers (stages/4-dockerd/dkd_util.c):
 * `docker ps` status texts as the docker CLI prints them, signal names as
 * `docker kill -s` sends them, stdcopy frame headers, ids and names. */
#include <ctype.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "stages/4-dockerd/dkd.h"
#include "tap.h"

static const char *
human(double s)
{
  static char out[64];
  dkd_human_duration(s, out, sizeof out);
  return out;
}

int
main(void)
{
  tap_is_str(human(0.4), "Less than a second", "under a second");
  tap_is_str(human(1), "1 second", "one second");
  tap_is_str(human(42), "42 seconds", "seconds");
  tap_is_str(human(90), "About a minute", "about a minute");
  tap_is_str(human(600), "10 minutes", "minutes");
  tap_is_str(human(3700), "About an hour", "about an hour");
  tap_is_str(human(5 * 3600), "5 hours", "hours");
  tap_is_str(human(3 * 86400), "3 days", "days");

  tap_is_int(dkd_signal_number("SIGTERM"), SIGTERM, "SIGTERM");
  tap_is_int(dkd_signal_number("term"), SIGTERM, "term, any case, no SIG");
  tap_is_int(dkd_signal_number("9"), SIGKILL, "a number");
  tap_is_int(dkd_signal_number(""), SIGKILL, "none: SIGKILL, as docker kill");
  tap_is_int(dkd_signal_number("SIGBOGUS"), -1, "an unknown name is refused");
  tap_is_int(dkd_signal_number("99"), -1, "an out-of-range number is refused");

  unsigned char hdr[8];
  dkd_stdcopy_header(hdr, 2, 0x01020304);
  tap_ok(hdr[0] == 2 && hdr[1] == 0 && hdr[2] == 0 && hdr[3] == 0 && hdr[4] == 1 && hdr[5] == 2 &&
             hdr[6] == 3 && hdr[7] == 4,
         "stdcopy header: stream, three zeros, length big-endian");

  char id[65], id2[65];
  dkd_random_hex(id, 32);
  dkd_random_hex(id2, 32);
  bool hex = strlen(id) == 64;
  for (size_t i = 0; hex && i < 64; i++)
    hex = isxdigit((unsigned char)id[i]) && !isupper((unsigned char)id[i]);
  tap_ok(hex, "an id is 64 lowercase hex digits");
  tap_ok(strcmp(id, id2) != 0, "two ids differ");
  char name[64];
  dkd_random_name(name, sizeof name);
  tap_ok(strchr(name, '_') != NULL && name[0] != '_', "a generated name is adjective_surname (%s)",
         name);

  dkd_container k;
  memset(&k, 0, sizeof k);
  char text[128];
  k.state = DKD_CREATED;
  dkd_status_text(&k, text, sizeof text);
  tap_is_str(text, "Created", "status: Created");
  k.state = DKD_EXITED;
  k.exit_code = 137;
  dkd_now(k.finished_at, sizeof k.finished_at);
  dkd_status_text(&k, text, sizeof text);
  tap_is_str(text, "Exited (137) Less than a second ago", "status: Exited (code) ... ago");
  k.state = DKD_PAUSED;
  dkd_now(k.started_at, sizeof k.started_at);
  dkd_status_text(&k, text, sizeof text);
  tap_is_str(text, "Up Less than a second (Paused)", "status: Up ... (Paused)");
  k.removing = true;
  dkd_status_text(&k, text, sizeof text);
  tap_is_str(text, "Removal In Progress", "status: Removal In Progress");
  tap_ok(dkd_seconds_since("2000-01-01T00:00:00.000000000Z") > 8e8,
         "seconds since an RFC 3339 time");
  return tap_done();
}
