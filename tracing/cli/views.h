/* views.h: the verbs that read a trace file. */
#ifndef CUTAWAY_TRACE_VIEWS_H
#define CUTAWAY_TRACE_VIEWS_H

#define TRACE_VIEW_VERBS

#endif
