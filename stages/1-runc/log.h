/* log.h: runc's --log / --log-format / --debug.
 *
 * containerd's runc shim passes `--log <bundle>/log.json --log-format json`
 * and, when a command fails, reads the last "error" line of that file to
 * build its own error message; crun writes {"msg","level","time"} lines
 * for the same reason.  Errors therefore go both to stderr (for a human)
 * and, when --log is given, to the log file in the chosen format.  Nothing
 * is ever written to stdout: a container's output must stay clean. */
#ifndef CUTAWAY_RUNC_LOG_H
#define CUTAWAY_RUNC_LOG_H

#include <stdbool.h>

#include "error.h"

enum rc_log_format { RC_LOG_TEXT, RC_LOG_JSON };

/* Open the log (path NULL: stderr only).  Failing to open it is reported
 * and otherwise ignored, as a log must never fail the operation. */
void rc_log_init(const char *path, enum rc_log_format format, bool debug);

/* The log's fd, or -1 (the container init keeps it to report late
 * failures; it is O_CLOEXEC). */
int rc_log_fd(void);

void rc_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rc_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The one-line failure of a command: "cutaway-runc: <msg>" on stderr, and
 * an error record in the log. */
void rc_log_error(const cut_err *err);

#endif
