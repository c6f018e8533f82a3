/* cli_fmt.c: the pure logic of the cutaway CLI (stage 5): docker's table
 * layout, durations and sizes, image references, JSON re-indentation,
 * stdcopy demuxing (frames split at every byte), span names and flags. */
#include <stdlib.h>
#include <string.h>

#include "../../stages/5-docker-cli/cli.h"
#include "tap.h"

struct collect {
  char out[256], err[256];
};

static int
collect_frame(int stream, const char *p, size_t n, void *ctx)
{
  struct collect *c = ctx;
  char *dst = stream == 2 ? c->err : c->out;
  size_t have = strlen(dst);
  snprintf(dst + have, 256 - have, "%.*s", (int)n, p);
  return 0;
}

static void
test_demux(void)
{
  /* stdout "hi\n", stderr "err\n", an empty frame, stdout "x". */
  const char frames[] = "\x01\0\0\0\0\0\0\x03hi\n"
                        "\x02\0\0\0\0\0\0\x04"
                        "err\n"
                        "\x01\0\0\0\0\0\0\0"
                        "\x01\0\0\0\0\0\0\x01x";
  size_t len = sizeof frames - 1;
  struct collect whole = {0}, bytes = {0};
  cli_demux d1 = {0}, d2 = {0};
  cli_demux_feed(&d1, frames, len, collect_frame, &whole);
  for (size_t i = 0; i < len; i++) /* one byte at a time: headers split too */
    cli_demux_feed(&d2, frames + i, 1, collect_frame, &bytes);
  tap_is_str(whole.out, "hi\nx", "demux: stdout payloads");
  tap_is_str(whole.err, "err\n", "demux: stderr kept apart");
  tap_is_str(bytes.out, "hi\nx", "demux: frames split at every byte (stdout)");
  tap_is_str(bytes.err, "err\n", "demux: frames split at every byte (stderr)");
}

static void
test_table(void)
{
  cli_table t;
  cli_table_init(&t, 3);
  const char *h[] = {"DRIVER", "VOLUME NAME", "X"};
  const char *r[] = {"local", "myvol", "end"};
  cli_table_add(&t, h);
  cli_table_add(&t, r);
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  cli_table_print(&t, f);
  fclose(f);
  /* minwidth 10, padding 3, the last column unpadded */
  tap_is_str(buf, "DRIVER    VOLUME NAME   X\nlocal     myvol         end\n",
             "table: tabwriter layout (minwidth 10, padding 3)");
  free(buf);
  cli_table_free(&t);
}

static void
test_units(void)
{
  char s[64];
  cli_human_duration(0, s, sizeof s);
  tap_is_str(s, "Less than a second", "duration: <1s");
  cli_human_duration(1, s, sizeof s);
  tap_is_str(s, "1 second", "duration: 1s");
  cli_human_duration(59, s, sizeof s);
  tap_is_str(s, "59 seconds", "duration: 59s");
  cli_human_duration(90, s, sizeof s);
  tap_is_str(s, "About a minute", "duration: 90s");
  cli_human_duration(180, s, sizeof s);
  tap_is_str(s, "3 minutes", "duration: 3 min");
  cli_human_duration(3600 * 5, s, sizeof s);
  tap_is_str(s, "5 hours", "duration: 5 h");
  cli_human_duration(3600 * 24 * 3, s, sizeof s);
  tap_is_str(s, "3 days", "duration: 3 days");
  cli_human_size(1990000, s, sizeof s);
  tap_is_str(s, "1.99MB", "size: 1.99MB (decimal, 3 digits)");
  cli_human_size(512, s, sizeof s);
  tap_is_str(s, "512B", "size: 512B");
  cli_bytes_size(25275400000.0, s, sizeof s);
  tap_is_str(s, "23.54GiB", "size: 23.54GiB (binary)");
  tap_is_int(cli_parse_bytes("64m"), 67108864, "--memory 64m");
  tap_is_int(cli_parse_bytes("1g"), 1073741824, "--memory 1g");
  tap_is_int(cli_parse_bytes("100"), 100, "--memory 100 (bytes)");
  tap_is_int(cli_parse_bytes("12x"), -1, "--memory 12x refused");
  tap_is_int(cli_parse_cpus("0.5"), 500000000, "--cpus 0.5 = 5e8 nano-CPUs");
  tap_is_int(cli_parse_cpus("abc"), -1, "--cpus abc refused");
}

static void
test_refs(void)
{
  cli_ref r;
  cut_err e;
  char s[1400];
  tap_is_int(cli_ref_parse("busybox", &r, &e), 0, "ref: busybox");
  cli_ref_name(&r, s, sizeof s);
  tap_is_str(s, "docker.io/library/busybox", "ref: normalised to docker.io/library/");
  cli_ref_familiar(&r, s, sizeof s);
  tap_is_str(s, "busybox:latest", "ref: familiar form gets :latest");
  tap_ok(!r.tag_given, "ref: no tag given");
  cli_ref_parse("127.0.0.1:5000/lab/busybox:v1", &r, &e);
  cli_ref_name(&r, s, sizeof s);
  tap_is_str(s, "127.0.0.1:5000/lab/busybox", "ref: a registry with a port");
  tap_is_str(r.tag, "v1", "ref: its tag");
  cli_ref_parse("localhost/x", &r, &e);
  tap_is_str(r.domain, "localhost", "ref: localhost is a registry");
  cli_ref_parse("lab/busybox", &r, &e);
  cli_ref_familiar(&r, s, sizeof s);
  tap_is_str(s, "lab/busybox:latest", "ref: docker.io user image stays short");
  tap_is_int(cli_ref_parse("Bad/Name", &r, &e), -1, "ref: uppercase refused");
}

static void
test_indent(void)
{
  const char *in = "{\"Id\":\"a\",\"Args\":[],\"S\":{\"X\":1,\"Y\":\"a,b:{\\\"c\"},\"E\":{}}";
  char *out = cli_json_indent(in, strlen(in), "    ", "    ");
  tap_is_str(out,
             "{\n        \"Id\": \"a\",\n        \"Args\": [],\n        \"S\": {\n            "
             "\"X\": 1,\n            \"Y\": \"a,b:{\\\"c\"\n        },\n        \"E\": {}\n    }",
             "json indent: Go's json.Indent layout, strings verbatim, empty kept compact");
  free(out);
  tap_ok(cli_json_indent("{\"a\":", 5, "", "  ") == NULL, "json indent: truncated input refused");
}

static void
test_cells_and_routes(void)
{
  char s[256];
  cli_command_cell("sleep 300", true, s, sizeof s);
  tap_is_str(s, "\"sleep 300\"", "command cell: quoted");
  cli_command_cell("sh -c echo started; sleep 300", true, s, sizeof s);
  tap_is_str(s, "\"sh -c echo started;\xe2\x80\xa6\"", "command cell: cut at 20 with an ellipsis");
  cli_route_name("POST",
                 "/v1.41/containers/"
                 "795b9842fa99b1a595df01f23aecb3c331ac961a830cc053128f02b2a47e8df7/attach?stream=1",
                 s, sizeof s);
  tap_is_str(s, "POST /containers/{id}/attach", "span name: the daemon's route");
  cli_route_name("POST", "/v1.41/containers/create?name=web", s, sizeof s);
  tap_is_str(s, "POST /containers/create", "span name: create stays");
  cli_route_name("DELETE", "/v1.41/images/127.0.0.1:5000/busybox", s, sizeof s);
  tap_is_str(s, "DELETE /images/{name*}", "span name: image names with / and :");
  cli_route_name("GET", "/v1.41/exec/abc/json", s, sizeof s);
  tap_is_str(s, "GET /exec/{id}/json", "span name: exec inspect");
  cli_route_name("HEAD", "/_ping", s, sizeof s);
  tap_is_str(s, "HEAD /_ping", "span name: ping");
  cli_urlencode("127.0.0.1:5000/busybox", s, sizeof s);
  tap_is_str(s, "127.0.0.1%3A5000%2Fbusybox", "query escaping as docker's");
}

static void
test_flags(void)
{
  bool d = false, i = false, t = false, rm = false;
  const char *name = NULL;
  cli_strlist env = {0}, pos = {0};
  const cli_flag flags[] = {{'d', "detach", CLI_BOOL, &d}, {'i', "interactive", CLI_BOOL, &i},
                            {'t', "tty", CLI_BOOL, &t},    {0, "rm", CLI_BOOL, &rm},
                            {0, "name", CLI_STR, &name},   {'e', "env", CLI_LIST, &env}};
  char *argv[] = {"run", "-dit", "--rm", "--name=web", "-eA=1",     "-e",
                  "B=2", "img",  "sh",   "-c",         "echo -e x", NULL};
  int rc = cli_flags_parse("cutaway run [OPTIONS] IMAGE", flags, 6, 11, argv, true, &pos);
  tap_is_int(rc, 0, "flags: parsed");
  tap_ok(d && i && t && rm, "flags: -dit combined, --rm");
  tap_is_str(name, "web", "flags: --name=web");
  tap_ok(env.n == 2 && strcmp(env.v[0], "A=1") == 0 && strcmp(env.v[1], "B=2") == 0,
         "flags: -eA=1 and -e B=2");
  tap_ok(pos.n == 4 && strcmp(pos.v[0], "img") == 0 && strcmp(pos.v[2], "-c") == 0,
         "flags: the command's own flags stay after the image");
  cli_strlist_free(&env);
  cli_strlist_free(&pos);
  char *bad[] = {"run", "--bogus", "img", NULL};
  FILE *saved = stderr;
  stderr = fopen("/dev/null", "w");
  rc = cli_flags_parse("cutaway run [OPTIONS] IMAGE", flags, 6, 3, bad, true, &pos);
  fclose(stderr);
  stderr = saved;
  tap_is_int(rc, 125, "flags: an unknown flag is docker's 125");
}

int
main(void)
{
  test_demux();
  test_table();
  test_units();
  test_refs();
  test_indent();
  test_cells_and_routes();
  test_flags();
  return tap_done();
}
