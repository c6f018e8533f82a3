/* thread.h: background work in a detached thread.
 *
 * The daemons run long-lived helpers beside their request threads: a
 * monitor per running container waiting for its exit, a relay copying a
 * container's output to attached clients, a copier per published-port
 * connection.  Nobody joins them; each frees its own argument when done,
 * so they are created detached (their resources go back to the system when
 * they return, as a zombie process would not). */
#ifndef CUTAWAY_THREAD_H
#define CUTAWAY_THREAD_H

#include <stddef.h>

/* Run fn(arg) in a new detached thread, with a stack of stack_size bytes
 * (0: the default).  0, or -1 when it could not be created (arg is then
 * still the caller's to free). */
int cut_thread_detached(void *(*fn)(void *), void *arg, size_t stack_size);

#endif
