/* runc_hooks.c: OCI hooks (stages/1-runc/hooks.c) run for real with
 * /bin/sh scripts: the state arrives on stdin, args and env are the
 * hook's own, TRACEPARENT is passed, a hook past its timeout is killed,
 * and failures abort or only warn according to the hook's kind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"
#include "stages/1-runc/hooks.h"
#include "tap.h"
#include "trace.h"

static char dir[] = "/tmp/cutaway-test.hooksXXXXXX";

static cJSON *
hooks_doc(const char *json)
{
  cJSON *doc = cJSON_Parse(json);
  if (doc == NULL) {
    printf("Bail out! bad test JSON: %s\n", json);
    exit(1);
  }
  return doc;
}

static char *
slurp(const char *name)
{
  char path[256], *buf = NULL;
  size_t len;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (cut_read_file(path, 1 << 16, &buf, &len, NULL) < 0)
    return strdup("");
  return buf;
}

int
main(void)
{
  if (mkdtemp(dir) == NULL)
    return 1;
  char json[2048];
  char path[300];
  snprintf(path, sizeof path, "%s/trace.jsonl", dir);
  setenv("CUTAWAY_TRACE", path, 1);
  unsetenv("TRACEPARENT");
  trace_init("cutaway-runc", "test");
  trace_span root;
  trace_begin(&root, TRACE_INTERNAL, "test.hooks");
  cut_err err = {0};
  const char *state = "{\"ociVersion\":\"1.2.0\",\"id\":\"h1\",\"status\":\"created\",\"pid\":42}";

  /* stdin, args and env */
  snprintf(json, sizeof json,
           "{\"prestart\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\","
           "\"cat > %s/stdin; echo \\\"$0 $1 $HOOKVAR\\\" > %s/argv\",\"arg0\",\"arg1\"],"
           "\"env\":[\"HOOKVAR=v1\"]}]}",
           dir, dir);
  cJSON *h = hooks_doc(json);
  tap_is_int(hooks_validate(h, &err), 0, "a well-formed prestart hook validates");
  tap_is_int(hooks_run(h, HOOK_PRESTART, state, &err), 0, "prestart hook runs");
  char *got = slurp("stdin");
  tap_is_str(got, state, "the hook reads the state JSON on stdin");
  free(got);
  got = slurp("argv");
  tap_is_str(got, "arg0 arg1 v1\n", "the hook gets its own args and env");
  free(got);
  tap_is_int(hooks_run(h, HOOK_POSTSTART, state, &err), 0, "a kind with no hooks is a no-op");
  cJSON_Delete(h);

  /* failure of an aborting kind */
  h = hooks_doc("{\"createRuntime\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\","
                "\"echo boom >&2; exit 3\"]}]}");
  cut_err_clear(&err);
  tap_ok(hooks_run(h, HOOK_CREATE_RUNTIME, state, &err) < 0, "a failing createRuntime fails");
  tap_ok(strstr(err.msg, "exit status 3") && strstr(err.msg, "boom"),
         "its error names the status and what the hook said: %s", err.msg);
  cJSON_Delete(h);

  /* failure of a warning kind: every hook still runs */
  snprintf(json, sizeof json,
           "{\"poststop\":[{\"path\":\"/bin/false\"},{\"path\":\"/bin/sh\",\"args\":[\"sh\","
           "\"-c\",\"touch %s/second\"]}]}",
           dir);
  h = hooks_doc(json);
  tap_is_int(hooks_run(h, HOOK_POSTSTOP, state, &err), 0, "a failing poststop only warns");
  snprintf(path, sizeof path, "%s/second", dir);
  tap_ok(access(path, F_OK) == 0, "the next poststop hook still ran");
  cJSON_Delete(h);

  /* timeout */
  h = hooks_doc("{\"startContainer\":[{\"path\":\"/bin/sleep\",\"args\":[\"sleep\",\"30\"],"
                "\"timeout\":1}]}");
  cut_err_clear(&err);
  tap_ok(hooks_run(h, HOOK_START_CONTAINER, state, &err) < 0, "a hook past its timeout fails");
  tap_ok(strstr(err.msg, "timeout") != NULL, "and says so: %s", err.msg);
  cJSON_Delete(h);

  /* missing binary */
  h = hooks_doc("{\"prestart\":[{\"path\":\"/nonexistent/hook\"}]}");
  tap_ok(hooks_run(h, HOOK_PRESTART, state, &err) < 0, "a missing hook binary fails prestart");
  cJSON_Delete(h);

  /* TRACEPARENT reaches the hook when tracing is on */
  snprintf(json, sizeof json,
           "{\"poststart\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\","
           "\"echo $TRACEPARENT > %s/tp\"]}]}",
           dir);
  h = hooks_doc(json);
  hooks_run(h, HOOK_POSTSTART, state, &err);
  got = slurp("tp");
  tap_ok(strncmp(got, "00-", 3) == 0 && strlen(got) == 56, "the hook gets TRACEPARENT: %s", got);
  free(got);
  got = slurp("trace.jsonl");
  tap_ok(strstr(got, "\"name\":\"hook.poststart\"") != NULL, "a hook.poststart span is traced");
  free(got);
  cJSON_Delete(h);

  /* validation */
  static const char *const bad[] = {
      "{\"prestart\":[{\"path\":\"relative/hook\"}]}",
      "{\"prestart\":[{\"args\":[\"x\"]}]}",
      "{\"prestart\":[{\"path\":\"/bin/true\",\"timeout\":0}]}",
      "{\"prestart\":[{\"path\":\"/bin/true\",\"args\":[1]}]}",
      "{\"prestart\":{\"path\":\"/bin/true\"}}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    h = hooks_doc(bad[i]);
    cut_err_clear(&err);
    tap_ok(hooks_validate(h, &err) < 0 && err.msg[0], "rejected: %s (%s)", bad[i], err.msg);
    cJSON_Delete(h);
  }

  trace_end(&root, NULL);
  cut_rm_rf(dir, NULL);
  return tap_done();
}
