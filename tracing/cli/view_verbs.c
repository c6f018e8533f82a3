/* view_verbs.c: the reading verbs of cutaway-trace.
 *
 * They share one command line: --file FILE (default $CUTAWAY_TRACE, else
 * the default trace file), -o FILE (default stdout), a request chosen by
 * trace id (or a unique prefix), `last`, or --container ID|NAME.  Each verb
 * loads what it needs through tracing/views/reader.h and renders with
 * tracing/views/render.h. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "trace.h"
#include "views/render.h"

struct vargs {
  const char *verb;
  const char *file, *out, *container, *format;
  bool mermaid, all;
  long limit, events;
  char *pos[4];
  int npos;
};

static int
usage(const char *verb, const char *msg)
{
  fprintf(stderr, "cutaway-trace %s: %s (see cutaway-trace %s --help)\n", verb, msg, verb);
  return 2;
}

static void
help(const char *verb)
{
  printf("usage: cutaway-trace %s [TRACE|last] [--container ID|NAME] [--file FILE] [-o FILE]\n"
         "  TRACE          a trace id or a unique prefix of one; `last` (the default) is the\n"
         "                 request that started last\n"
         "  --container X  every trace that mentions container X (id, id prefix or name)\n"
         "  --file FILE    the trace file (default: $CUTAWAY_TRACE, else %s)\n"
         "  -o FILE        write there (atomically) instead of standard output\n"
         "  --format F     svg, png or dot for path and arch (default: from -o's extension)\n"
         "  --mermaid      seq: Mermaid text instead of SVG\n"
         "  -n N, --all    list: the N most recent traces (default 20), or all\n"
         "See docs/trace-views.md.\n",
         verb, CUTAWAY_TRACE_DEFAULT);
}

static int
parse(int argc, char **argv, struct vargs *a)
{
  static const struct option opts[] = {{"file", required_argument, 0, 'f'},
                                       {"output", required_argument, 0, 'o'},
                                       {"container", required_argument, 0, 'c'},
                                       {"format", required_argument, 0, 'F'},
                                       {"mermaid", no_argument, 0, 'm'},
                                       {"all", no_argument, 0, 'a'},
                                       {"events", required_argument, 0, 'e'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  memset(a, 0, sizeof *a);
  a->verb = argv[0];
  a->limit = 20;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "f:o:n:h", opts, NULL)) != -1) {
    switch (c) {
    case 'f': a->file = optarg; break;
    case 'o': a->out = optarg; break;
    case 'c': a->container = optarg; break;
    case 'F': a->format = optarg; break;
    case 'm': a->mermaid = true; break;
    case 'a': a->all = true; break;
    case 'n':
    case 'e': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*optarg == '\0' || *end || v <= 0)
        return usage(a->verb, "expected a positive number");
      if (c == 'n')
        a->limit = v;
      else
        a->events = v;
      break;
    }
    case 'h': help(a->verb); return -1;
    default: return usage(a->verb, "unknown option");
    }
  }
  for (int i = optind; i < argc; i++) {
    if (a->npos == 4)
      return usage(a->verb, "too many arguments");
    a->pos[a->npos++] = argv[i];
  }
  return 0;
}

static int
fail(const char *verb, const cut_err *err)
{
  char prog[64];
  snprintf(prog, sizeof prog, "cutaway-trace %s", verb);
  cut_err_print(prog, err);
  return CUT_EXIT_FAILURE;
}

/* Parse, then load the one request the verb draws. */
static int
load_request(int argc, char **argv, struct vargs *a, tr_model *m)
{
  int r = parse(argc, argv, a);
  if (r != 0)
    return r; /* -1: --help was printed */
  if (a->npos > 1 || (a->npos == 1 && a->container))
    return usage(a->verb, "choose one request: TRACE, last or --container");
  cut_err err;
  if (tr_open_request(a->file, a->npos ? a->pos[0] : "last", a->container, m, &err) < 0)
    return fail(a->verb, &err);
  return 0;
}

static int
finish(const struct vargs *a, sbuf *out)
{
  cut_err err;
  int r = sb_write_out(out, a->out, &err);
  sb_free(out);
  if (r < 0)
    return fail(a->verb, &err);
  return 0;
}

int
trace_cmd_list(int argc, char **argv)
{
  struct vargs a;
  int r = parse(argc, argv, &a);
  if (r != 0)
    return r < 0 ? 0 : r;
  if (a.npos)
    return usage(a.verb, "list takes no argument");
  tr_index ix;
  cut_err err;
  if (tr_index_build(a.file, a.container, &ix, &err) < 0) {
    tr_index_free(&ix);
    return fail(a.verb, &err);
  }
  tr_report_skipped(&ix.st);
  sbuf out = {0};
  if (a.container) {
    /* Only the traces that mention the container. */
    size_t k = 0;
    for (size_t i = 0; i < ix.n; i++)
      if (ix.v[i].container_match)
        ix.v[k++] = ix.v[i];
      else
        free(ix.v[i].root);
    ix.n = k;
  }
  tv_list(&ix, a.all ? 0 : (size_t)a.limit, &out);
  tr_index_free(&ix);
  return finish(&a, &out);
}

int
trace_cmd_show(int argc, char **argv)
{
  struct vargs a;
  tr_model m;
  int r = load_request(argc, argv, &a, &m);
  if (r != 0)
    return r < 0 ? 0 : r;
  sbuf out = {0};
  tv_show(&m, &out);
  tr_model_free(&m);
  return finish(&a, &out);
}

/* The format of a diagram: --format, else the output's extension. */
static const char *
diagram_format(const struct vargs *a)
{
  if (a->format)
    return a->format;
  const char *dot = a->out ? strrchr(a->out, '.') : NULL;
  if (dot && (strcmp(dot, ".svg") == 0 || strcmp(dot, ".png") == 0 || strcmp(dot, ".dot") == 0 ||
              strcmp(dot, ".gv") == 0))
    return strcmp(dot, ".gv") == 0 ? "dot" : dot + 1;
  return a->out && strcmp(a->out, "-") != 0 ? NULL : "svg";
}

static int
check_format(const struct vargs *a, const char *fmt)
{
  if (fmt == NULL)
    return usage(a->verb, "cannot tell the format from the output name: use .svg, .png, .dot or "
                          "--format");
  if (strcmp(fmt, "svg") != 0 && strcmp(fmt, "png") != 0 && strcmp(fmt, "dot") != 0)
    return usage(a->verb, "--format must be svg, png or dot");
  return 0;
}

int
trace_cmd_path(int argc, char **argv)
{
  struct vargs a;
  tr_model m;
  int r = load_request(argc, argv, &a, &m);
  if (r != 0)
    return r < 0 ? 0 : r;
  const char *fmt = diagram_format(&a);
  if ((r = check_format(&a, fmt)) != 0) {
    tr_model_free(&m);
    return r;
  }
  sbuf dot = {0}, out = {0};
  tv_path_dot(&m, &dot);
  tr_model_free(&m);
  cut_err err;
  r = tv_graphviz(dot.p, fmt, &out, &err);
  sb_free(&dot);
  if (r < 0) {
    sb_free(&out);
    return fail(a.verb, &err);
  }
  return finish(&a, &out);
}

/* The verbs that render one request with a plain renderer share this:
 * load the chosen request, render it, write it where -o says. */
typedef void (*render_fn)(const tr_model *m, sbuf *out);

static int
render_request(int argc, char **argv, render_fn plain, render_fn mermaid)
{
  struct vargs a;
  tr_model m;
  int r = load_request(argc, argv, &a, &m);
  if (r != 0)
    return r < 0 ? 0 : r;
  sbuf out = {0};
  (a.mermaid && mermaid ? mermaid : plain)(&m, &out);
  tr_model_free(&m);
  return finish(&a, &out);
}

int
trace_cmd_seq(int argc, char **argv)
{
  return render_request(argc, argv, tv_seq_svg, tv_seq_mermaid);
}

int
trace_cmd_timeline(int argc, char **argv)
{
  return render_request(argc, argv, tv_timeline_svg, NULL);
}

int
trace_cmd_html(int argc, char **argv)
{
  struct vargs a;
  tr_model m;
  int r = load_request(argc, argv, &a, &m);
  if (r != 0)
    return r < 0 ? 0 : r;
  sbuf out = {0};
  cut_err err;
  r = tv_html(&m, &out, &err);
  tr_model_free(&m);
  if (r < 0) {
    sb_free(&out);
    return fail(a.verb, &err);
  }
  return finish(&a, &out);
}

int
trace_cmd_chrome(int argc, char **argv)
{
  return render_request(argc, argv, tv_chrome, NULL);
}

int
trace_cmd_otlp(int argc, char **argv)
{
  return render_request(argc, argv, tv_otlp, NULL);
}

int
trace_cmd_arch(int argc, char **argv)
{
  struct vargs a;
  int r = parse(argc, argv, &a);
  if (r != 0)
    return r < 0 ? 0 : r;
  if (a.npos)
    return usage(a.verb, "arch aggregates the whole file: it takes no trace");
  const char *fmt = diagram_format(&a);
  if ((r = check_format(&a, fmt)) != 0)
    return r;
  sbuf dot = {0}, out = {0};
  tr_stats st = {0};
  cut_err err;
  r = tv_arch_dot(a.file, &dot, &st, &err);
  tr_report_skipped(&st);
  if (r == 0)
    r = tv_graphviz(dot.p, fmt, &out, &err);
  sb_free(&dot);
  if (r < 0) {
    sb_free(&out);
    return fail(a.verb, &err);
  }
  return finish(&a, &out);
}

int
trace_cmd_diff(int argc, char **argv)
{
  struct vargs a;
  int r = parse(argc, argv, &a);
  if (r != 0)
    return r < 0 ? 0 : r;
  if (a.npos != 2)
    return usage(a.verb, "diff takes two requests: A B (trace ids or prefixes, or last)");
  tr_index ix;
  cut_err err;
  size_t *sa = NULL, *sb = NULL, na = 0, nb = 0;
  tr_model ma = {0}, mb = {0};
  r = tr_index_build(a.file, NULL, &ix, &err);
  if (r == 0)
    r = tr_select(&ix, a.pos[0], NULL, &sa, &na, &err);
  if (r == 0)
    r = tr_select(&ix, a.pos[1], NULL, &sb, &nb, &err);
  if (r == 0)
    r = tr_load(&ix, sa, na, &ma, &err);
  if (r == 0)
    r = tr_load(&ix, sb, nb, &mb, &err);
  tr_report_skipped(&ix.st);
  tr_index_free(&ix);
  free(sa);
  free(sb);
  if (r < 0) {
    tr_model_free(&ma);
    tr_model_free(&mb);
    return fail(a.verb, &err);
  }
  sbuf out = {0};
  tv_diff(&ma, &mb, &out);
  tr_model_free(&ma);
  tr_model_free(&mb);
  return finish(&a, &out);
}
