/* cli_flags.c: command-line flags the docker way (cobra + pflag), the small
 * subset a course needs, and docker's usage errors and exit codes.
 *
 *   -d -i -t / -dit          short booleans, combinable
 *   -e A=1 / -eA=1           a short flag's value, separate or attached
 *   --name web / --name=web  long flags
 *   --rm=false               a boolean with an explicit value
 *   --                       the end of the flags
 *
 * `run` and `exec` stop at the first positional argument (everything after
 * the image is the container's command, its own flags included); the other
 * commands accept flags anywhere, as cobra does.
 *
 * Exit codes, checked against the docker CLI 28: an unknown flag or a bad
 * flag value is 125 (any command), a missing argument or an unknown command
 * is 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void
cli_strlist_push(cli_strlist *l, const char *s)
{
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    const char **nv = realloc(l->v, cap * sizeof *nv);
    if (nv == NULL)
      return;
    l->v = nv;
    l->cap = cap;
  }
  l->v[l->n++] = s;
}

void
cli_strlist_free(cli_strlist *l)
{
  free(l->v);
  memset(l, 0, sizeof *l);
}

/* Command name out of a usage line: "cutaway volume ls [OPTIONS]" -> "volume ls". */
static void
usage_command(const char *usage, char *out, size_t len)
{
  const char *p = strchr(usage, ' ');
  p = p ? p + 1 : usage;
  size_t n = 0;
  while (p[n] && p[n] != '[' && !(p[n] >= 'A' && p[n] <= 'Z'))
    n++;
  while (n && p[n - 1] == ' ')
    n--;
  snprintf(out, len, "%.*s", (int)n, p);
}

static int
flag_error(const char *usage, const char *fmt, const char *what)
{
  char cmd[128];
  usage_command(usage, cmd, sizeof cmd);
  fprintf(stderr, fmt, what);
  fprintf(stderr, "\n\nUsage:  %s\n\nRun 'cutaway %s --help' for more information\n", usage, cmd);
  return 125;
}

int
cli_usage_error(const char *cmd, const char *usage, const char *what)
{
  fprintf(stderr,
          "cutaway: 'cutaway %s' requires %s\n\nUsage:  %s\n\nSee 'cutaway %s --help' for more "
          "information\n",
          cmd, what, usage, cmd);
  return 1;
}

int
cli_fail(const cut_err *err, int code)
{
  fflush(stdout);
  cut_err_print("cutaway", err);
  return code;
}

static const cli_flag *
find_long(const cli_flag *flags, size_t n, const char *name, size_t len)
{
  for (size_t i = 0; i < n; i++)
    if (flags[i].long_name && strlen(flags[i].long_name) == len &&
        strncmp(flags[i].long_name, name, len) == 0)
      return &flags[i];
  return NULL;
}

static const cli_flag *
find_short(const cli_flag *flags, size_t n, char ch)
{
  for (size_t i = 0; i < n; i++)
    if (flags[i].short_name == ch)
      return &flags[i];
  return NULL;
}

static int
set_value(const cli_flag *f, const char *value)
{
  switch (f->type) {
  case CLI_BOOL:
    if (value && strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
      return -1;
    *(bool *)f->dst = value == NULL || strcmp(value, "true") == 0;
    break;
  case CLI_STR: *(const char **)f->dst = value; break;
  case CLI_LIST: cli_strlist_push(f->dst, value); break;
  }
  return 0;
}

static void
print_help(const char *usage, const cli_flag *flags, size_t n)
{
  printf("\nUsage:  %s\n\nOptions:\n", usage);
  for (size_t i = 0; i < n; i++) {
    char s[8] = "    ";
    if (flags[i].short_name)
      snprintf(s, sizeof s, "-%c, ", flags[i].short_name);
    printf("  %s--%s%s\n", s, flags[i].long_name,
           flags[i].type == CLI_BOOL   ? ""
           : flags[i].type == CLI_LIST ? " list"
                                       : " string");
  }
}

/* A long flag "--name[=value]" at argv[*i]. */
static int
parse_long(const char *usage, const cli_flag *flags, size_t nflags, int argc, char **argv, int *i)
{
  const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
  size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
  if (len == 4 && strncmp(arg, "help", 4) == 0) {
    print_help(usage, flags, nflags);
    exit(0);
  }
  const cli_flag *f = find_long(flags, nflags, arg, len);
  if (f == NULL)
    return flag_error(usage, "unknown flag: %s", argv[*i]);
  const char *value = eq ? eq + 1 : NULL;
  if (f->type != CLI_BOOL && value == NULL) {
    if (*i + 1 >= argc)
      return flag_error(usage, "flag needs an argument: %s", argv[*i]);
    value = argv[++*i];
  }
  if (set_value(f, value) < 0)
    return flag_error(usage, "invalid argument for flag %s", argv[*i]);
  return 0;
}

/* Short flags "-dit", "-eA=1", "-e A=1" at argv[*i]. */
static int
parse_short(const char *usage, const cli_flag *flags, size_t nflags, int argc, char **argv, int *i)
{
  const char *arg = argv[*i];
  for (const char *p = arg + 1; *p; p++) {
    if (*p == 'h') {
      print_help(usage, flags, nflags);
      exit(0);
    }
    const cli_flag *f = find_short(flags, nflags, *p);
    if (f == NULL) {
      char what[64];
      snprintf(what, sizeof what, "'%c' in %s", *p, arg);
      return flag_error(usage, "unknown shorthand flag: %s", what);
    }
    if (f->type == CLI_BOOL) {
      set_value(f, NULL);
      continue;
    }
    const char *value = p[1] ? p + 1 : NULL;
    if (value && *value == '=')
      value++;
    if (value == NULL) {
      if (*i + 1 >= argc) {
        char what[64];
        snprintf(what, sizeof what, "'%c' in %s", *p, arg);
        return flag_error(usage, "flag needs an argument: %s", what);
      }
      value = argv[++*i];
    }
    set_value(f, value);
    break;
  }
  return 0;
}

int
cli_flags_parse(const char *usage, const cli_flag *flags, size_t nflags, int argc, char **argv,
                bool stop_at_positional, cli_strlist *pos)
{
  bool flags_done = false;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (flags_done || arg[0] != '-' || arg[1] == '\0') {
      cli_strlist_push(pos, arg);
      if (stop_at_positional)
        flags_done = true;
      continue;
    }
    if (strcmp(arg, "--") == 0) {
      flags_done = true;
      continue;
    }
    int rc = arg[1] == '-' ? parse_long(usage, flags, nflags, argc, argv, &i)
                           : parse_short(usage, flags, nflags, argc, argv, &i);
    if (rc != 0) {
      cli_strlist_free(pos);
      return rc;
    }
  }
  return 0;
}
