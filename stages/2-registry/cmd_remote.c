/* cmd_remote.c: the registry verbs of cutaway-image (pull, push, login,
 * logout): option parsing and output only; the work is in pull.c, push.c,
 * client.c and auth.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth.h"
#include "client.h"
#include "image_cli.h"
#include "pull.h"
#include "push.h"
#include "ref.h"

#define PROG "cutaway-image"

int
image_cmd_pull(int argc, char **argv)
{
  static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'},
                                       {"platform", required_argument, NULL, 'p'},
                                       {"unpack", required_argument, NULL, 'u'},
                                       {"layers", required_argument, NULL, 'L'},
                                       {"parallel", required_argument, NULL, 'j'},
                                       {"no-sync", no_argument, NULL, 'S'},
                                       {"stall-timeout", required_argument, NULL, 'T'},
                                       {NULL, 0, NULL, 0}};
  image_pull_opts o = {.layout_dir = image_cli_layout(),
                       .insecure = image_cli_insecure_registries(),
                       .progress = true};
  int c;
  while ((c = getopt_long(argc, argv, "qp:u:j:", opts, NULL)) != -1) {
    switch (c) {
    case 'q': o.quiet = true; break;
    case 'p': o.platform = optarg; break;
    case 'u': o.unpack_dir = optarg; break;
    case 'L': o.layers_dir = optarg; break;
    case 'j': o.max_parallel = atoi(optarg); break;
    case 'S': o.no_sync = true; break;
    case 'T': o.stall_timeout = atoi(optarg); break;
    default: goto usage;
    }
  }
  if (optind != argc - 1)
    goto usage;
  image_pull_result res;
  cut_err err;
  if (image_pull(&o, argv[optind], &res, &err) < 0) {
    cut_err_print(PROG, &err);
    return CUT_EXIT_FAILURE;
  }
  if (o.quiet)
    printf("%s\n", res.ref);
  else
    printf("%s@%s\n", res.ref, res.manifest_digest);
  image_pull_result_free(&res);
  return 0;
usage:
  fprintf(stderr, "usage: " PROG " pull [-q] [--platform OS/ARCH[/VARIANT]] [--unpack DIR] "
                  "[--layers DIR] [-j N] [--stall-timeout SECONDS] REF\n");
  return 2;
}

int
image_cmd_push(int argc, char **argv)
{
  static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'},
                                       {"chunk-size", required_argument, NULL, 'c'},
                                       {NULL, 0, NULL, 0}};
  image_push_opts o = {.layout_dir = image_cli_layout(),
                       .insecure = image_cli_insecure_registries(),
                       .progress = true};
  int c;
  while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
    switch (c) {
    case 'q': o.quiet = true; break;
    case 'c': o.chunk_size = strtoull(optarg, NULL, 10); break;
    default: goto usage;
    }
  }
  if (optind != argc - 1 && optind != argc - 2)
    goto usage;
  image_push_result res;
  cut_err err;
  if (image_push(&o, argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL, &res, &err) < 0) {
    cut_err_print(PROG, &err);
    return CUT_EXIT_FAILURE;
  }
  if (o.quiet)
    printf("%s\n", res.digest);
  else
    printf("%s@%s\n", res.ref, res.digest);
  return 0;
usage:
  fprintf(stderr, "usage: " PROG " push [-q] [--chunk-size BYTES] SRC_REF [DEST_REF]\n");
  return 2;
}

/* A registry argument: "host[:port]", "docker.io", or a URL form people
 * paste ("https://host:port/"). */
static int
registry_domain(const char *arg, char *out, size_t size, cut_err *err)
{
  const char *p = arg;
  if (strncmp(p, "https://", 8) == 0)
    p += 8;
  else if (strncmp(p, "http://", 7) == 0)
    p += 7;
  snprintf(out, size, "%.*s", (int)strcspn(p, "/"), p);
  if (strcmp(out, "index.docker.io") == 0 || strcmp(out, "registry-1.docker.io") == 0)
    snprintf(out, size, "docker.io");
  if (!ref_valid_domain(out))
    return cut_error(err, 0, "invalid registry \"%s\"", arg);
  return 0;
}

static int
read_secret(bool from_stdin, char *out, size_t size, cut_err *err)
{
  struct termios old, quiet;
  bool tty = !from_stdin && isatty(STDIN_FILENO);
  if (!from_stdin && !tty)
    return cut_error(err, 0, "no terminal to ask the password on: use --password-stdin");
  if (tty) {
    fprintf(stderr, "Password: ");
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  size_t n = 0;
  int ch;
  while ((ch = getchar()) != EOF && ch != '\n')
    if (n + 1 < size)
      out[n++] = (char)ch;
  out[n] = '\0';
  while (n && out[n - 1] == '\r')
    out[--n] = '\0';
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
  }
  if (n == 0)
    return cut_error(err, 0, "empty password");
  return 0;
}

int
image_cmd_login(int argc, char **argv)
{
  static const struct option opts[] = {{"username", required_argument, NULL, 'u'},
                                       {"password-stdin", no_argument, NULL, 's'},
                                       {NULL, 0, NULL, 0}};
  const char *user = NULL;
  bool from_stdin = false;
  int c;
  while ((c = getopt_long(argc, argv, "u:", opts, NULL)) != -1) {
    switch (c) {
    case 'u': user = optarg; break;
    case 's': from_stdin = true; break;
    default: goto usage;
    }
  }
  if (optind != argc - 1)
    goto usage;
  cut_err err;
  char domain[256], ubuf[256], pass[1024];
  if (registry_domain(argv[optind], domain, sizeof domain, &err) < 0)
    goto fail;
  if (!user) {
    if (from_stdin || !isatty(STDIN_FILENO)) {
      cut_error(&err, 0, "--password-stdin needs -u USER");
      goto fail;
    }
    fprintf(stderr, "Username: ");
    if (!fgets(ubuf, sizeof ubuf, stdin)) {
      cut_error(&err, 0, "no username");
      goto fail;
    }
    ubuf[strcspn(ubuf, "\r\n")] = '\0';
    user = ubuf;
  }
  if (!user || user[0] == '\0' || strchr(user, ':')) {
    cut_error(&err, 0, "invalid username \"%s\"", user ? user : "");
    goto fail;
  }
  if (read_secret(from_stdin, pass, sizeof pass, &err) < 0)
    goto fail;
  reg_client_opts co = {
      .insecure = image_cli_insecure_registries(), .login = true, .user = user, .pass = pass};
  image_ref ref = {0};
  snprintf(ref.domain, sizeof ref.domain, "%s", domain);
  reg_client *cl;
  int r = reg_client_open(&ref, &co, &cl, &err);
  if (r == 0) {
    reg_client_free(cl);
    r = auth_store(domain, user, pass, &err);
  }
  explicit_bzero(pass, sizeof pass);
  if (r < 0)
    goto fail;
  fprintf(stderr, "Login Succeeded\n");
  return 0;
fail:
  cut_wrap(&err, "login %s", argv[optind]);
  cut_err_print(PROG, &err);
  return CUT_EXIT_FAILURE;
usage:
  fprintf(stderr, "usage: " PROG " login [-u USER] [--password-stdin] REGISTRY\n");
  return 2;
}

int
image_cmd_logout(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: " PROG " logout REGISTRY\n");
    return 2;
  }
  cut_err err;
  char domain[256];
  int r = registry_domain(argv[1], domain, sizeof domain, &err);
  if (r == 0)
    r = auth_erase(domain, &err);
  if (r < 0) {
    cut_wrap(&err, "logout %s", argv[1]);
    cut_err_print(PROG, &err);
    return CUT_EXIT_FAILURE;
  }
  fprintf(stderr, r ? "Removing login credentials for %s\n" : "Not logged in to %s\n", domain);
  return 0;
}
