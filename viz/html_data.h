/*
 * html_data.h - the data of a `coroscope html` page: the events of the run
 * and, for each, the rows of the viewer's model it changed (html_data.c).
 */
#ifndef CORO_VIZ_HTML_DATA_H
#define CORO_VIZ_HTML_DATA_H

#include "viz.h"

/* At most this many events on a page unless --first says otherwise. */
enum { VZ_HTML_MAX_EVENTS = 100000 };

/* Write the page's data as one JSON object, safe to place inside
 * <script type="application/json">. `fold` tells how the graph was drawn
 * (so each coroutine names its node); edge_of (from vz_graph_for_page)
 * which edge each event drew, NULL when there is no graph. */
int vz_html_data(FILE *out, const vz_trace *t, const vz_opts *o, bool fold,
                 const uint32_t *edge_of);

#endif
