/* cutaway-image: pull, push, store and unpack OCI images.
 *
 * The command-line face of stage 2 (what `docker pull` / `skopeo` /
 * `umoci` do, in one tool).  Global options come first, then one verb from
 * the table below, dispatched the way crun dispatches its subcommands:
 *
 *     cutaway-image [--layout DIR] [--insecure-registry HOST]... [--debug]
 *                   [--certs-dir DIR] VERB [ARGS]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_cli.h"
#include "trace.h"

#define MAX_INSECURE 32

static const char *opt_layout = IMAGE_DEFAULT_LAYOUT;
static bool opt_debug;
static const char *opt_insecure[MAX_INSECURE + 1];
static size_t n_insecure;

const char *
image_cli_layout(void)
{
  return opt_layout;
}

bool
image_cli_debug(void)
{
  return opt_debug;
}

const char *const *
image_cli_insecure_registries(void)
{
  return opt_insecure;
}

struct image_verb {
  const char *name;
  const char *help;
  int (*run)(int argc, char **argv);
};

static const struct image_verb verbs[] = {
    {"pull", "pull [-q] [--platform OS/ARCH] [--unpack DIR] REF: fetch an image", image_cmd_pull},
    {"push", "push SRC_REF [DEST_REF]: upload an image to a registry", image_cmd_push},
    {"import", "import DIR|TARBALL REF: a rootfs becomes a one-layer image", image_cmd_import},
    {"unpack", "unpack REF DIR: the flattened rootfs, whiteouts applied", image_cmd_unpack},
    {"inspect", "inspect REF: manifest, config and layers as JSON", image_cmd_inspect},
    {"ls", "ls: the images in the layout", image_cmd_ls},
    {"tag", "tag SRC DEST: another name for an image", image_cmd_tag},
    {"rm", "rm REF: untag, then collect unreferenced blobs", image_cmd_rm},
    {"login", "login [-u USER] [--password-stdin] REGISTRY: store credentials", image_cmd_login},
    {"logout", "logout REGISTRY: forget credentials", image_cmd_logout},
};

static void
usage(FILE *out)
{
  fprintf(out,
          "usage: cutaway-image [--layout DIR] [--insecure-registry HOST]... [--certs-dir DIR]\n"
          "                     [--debug] VERB [ARGS]\n\nverbs:\n");
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    fprintf(out, "  %s\n", verbs[i].help);
  fprintf(out, "\n--layout defaults to %s; CUTAWAY_TRACE names the trace file.\n",
          IMAGE_DEFAULT_LAYOUT);
}

int
main(int argc, char **argv)
{
  static const struct option opts[] = {{"layout", required_argument, NULL, 'l'},
                                       {"insecure-registry", required_argument, NULL, 'k'},
                                       {"certs-dir", required_argument, NULL, 'c'},
                                       {"debug", no_argument, NULL, 'd'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int c;
  /* "+": stop at the verb, whose own options are parsed by the verb. */
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    switch (c) {
    case 'l': opt_layout = optarg; break;
    case 'k':
      if (n_insecure == MAX_INSECURE) {
        fprintf(stderr, "cutaway-image: too many --insecure-registry options\n");
        return 2;
      }
      opt_insecure[n_insecure++] = optarg;
      break;
    case 'c': setenv("CUTAWAY_CERTS_D", optarg, 1); break;
    case 'd':
      opt_debug = true;
      setenv("CUTAWAY_IMAGE_DEBUG", "1", 1); /* client.c: one stderr line per request */
      break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind >= argc) {
    usage(stderr);
    return 2;
  }
  trace_init("cutaway-image", "cutaway-image");
  const char *verb = argv[optind];
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (strcmp(verb, verbs[i].name) == 0) {
      int sub_argc = argc - optind;
      char **sub_argv = argv + optind;
      optind = 0; /* let the verb run getopt from scratch */
      return verbs[i].run(sub_argc, sub_argv);
    }
  fprintf(stderr, "cutaway-image: unknown verb '%s' (try --help)\n", verb);
  return 2;
}
