/*
 * table.h - reading the coroutine table a running program publishes
 * (coro/inspect.h) for `coroscope ps`, `pstree` and `top`.
 */
#ifndef VIZ_TABLE_H
#define VIZ_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "coro/inspect.h"

typedef struct vz_table {
    int pid;
    char path[300];
    const void *map;
    size_t map_size;
    coro_inspect_header h;   /* the header, as of the last read */
    coro_inspect_slot *rows; /* rows holding a coroutine, as of the last read */
    size_t n, cap;
    size_t unreadable; /* rows rewritten too fast to copy whole */
    uint64_t now_ns;   /* CLOCK_MONOTONIC when they were read */
} vz_table;

/* Find and map pid's table. On failure print why, naming the pid, and
 * return VZ_BADINPUT (no table, a table left behind, not a table). */
int vz_table_open(int pid, vz_table *t, const char *cmd);
/* Copy out every row in use, each consistent (the rows' seqlocks). Returns
 * VZ_OK, or VZ_BADINPUT when the process has gone. */
int vz_table_read(vz_table *t);
void vz_table_close(vz_table *t);
/* Is the table's process still the one that made it? */
bool vz_table_alive(const vz_table *t);

/* The row of coroutine id, or NULL. */
const coro_inspect_slot *vz_table_find(const vz_table *t, uint64_t id);
/* What a row waits on, in words ("recv conn[1.2.3.4:5] fd=7", "await child
 * (#5)", "ready: io"), into buf. */
void vz_table_waits(const vz_table *t, const coro_inspect_slot *r, char *buf, size_t n);
/* Who awaits the row's coroutine, or NULL. */
const coro_inspect_slot *vz_table_awaiter(const vz_table *t, const coro_inspect_slot *r);
/* Time in the current state as "4ms", "497ms", "2.5s", "3m05s", "1h02m". */
void vz_table_since(const vz_table *t, const coro_inspect_slot *r, char *buf, size_t n);
const char *vz_table_state(const coro_inspect_slot *r);

#endif /* VIZ_TABLE_H */
