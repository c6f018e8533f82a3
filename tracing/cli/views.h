/* views.h: the verbs that read a trace file (tracing/cli/view_*.c).
 * TRACE_VIEW_VERBS expands to their rows of main.c's verb table. */
#ifndef CUTAWAY_TRACE_VIEWS_H
#define CUTAWAY_TRACE_VIEWS_H

int trace_cmd_list(int argc, char **argv);
int trace_cmd_show(int argc, char **argv);
int trace_cmd_path(int argc, char **argv);
int trace_cmd_seq(int argc, char **argv);
int trace_cmd_timeline(int argc, char **argv);
int trace_cmd_html(int argc, char **argv);
int trace_cmd_chrome(int argc, char **argv);
int trace_cmd_otlp(int argc, char **argv);
int trace_cmd_arch(int argc, char **argv);
int trace_cmd_diff(int argc, char **argv);
int trace_cmd_synth(int argc, char **argv);

#define TRACE_VIEW_VERBS                                                                           \
  {"list", "recent traces: id, start, root span, duration, components, errors", trace_cmd_list},   \
      {"show", "TRACE|last: the span tree, indented, with durations and outcomes",                 \
       trace_cmd_show},                                                                            \
      {"path", "TRACE -o FILE: the request's path through the layers (svg, png, dot)",             \
       trace_cmd_path},                                                                            \
      {"seq", "TRACE: sequence diagram (SVG, or Mermaid with --mermaid)", trace_cmd_seq},          \
      {"timeline", "TRACE: waterfall of the spans (SVG)", trace_cmd_timeline},                     \
      {"html", "TRACE: one self-contained page (path, sequence, timeline, events)",                \
       trace_cmd_html},                                                                            \
      {"chrome", "TRACE: Chrome trace event JSON (Perfetto, chrome://tracing)", trace_cmd_chrome}, \
      {"otlp", "TRACE: OTLP/JSON for an OpenTelemetry collector or Jaeger", trace_cmd_otlp},       \
      {"arch", "-o FILE: architecture graph over every trace of the file", trace_cmd_arch},        \
      {"diff", "A B: what differs between two requests", trace_cmd_diff},                          \
      {"synth", "--events N: write a synthetic trace file (benchmarks)", trace_cmd_synth},

#endif
