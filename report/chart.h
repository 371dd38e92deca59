/*
 * chart.h - numbers as the page shows them, and charts as inline SVG
 *
 * A chart is drawn by pga from at most CHART_POINTS_MAX points per series
 * (the report downsamples in SQL before anything reaches here), into a
 * fixed-size struct: memory per chart is constant, whatever the window.
 * Points carry their time; a point with brk set starts a new line, so a
 * gap in the data is a gap in the line, never a line drawn across it.  A
 * point with no neighbour on its line is drawn as a dot.  The x axis is the
 * report's window, so every chart of a page lines up.
 *
 * Series labels come from servers (a standby's or a slot's name): they are
 * escaped as SVG text.  Every number a chart holds is also in data
 * attributes (data-t: epoch seconds, data-v: values, as the SQL gave
 * them), so a test can compare what is drawn with SQL over the same data.
 *
 * Pure functions over caller-owned structs; thread-safe.
 */
#ifndef PGA_REPORT_CHART_H
#define PGA_REPORT_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/html.h"

enum unit {
	UNIT_COUNT,		/* 1234, 1.2M */
	UNIT_RATE,		/* per second */
	UNIT_BYTES,		/* 1.5 GiB */
	UNIT_BYTES_RATE,	/* 1.5 MiB/s */
	UNIT_PERCENT,		/* 0..100 */
	UNIT_SECONDS,		/* 2h05m, 12.5 s */
	UNIT_MS,		/* milliseconds */
};

/* v in its unit, for people: "1.2M", "3.4 GiB", "12.5 s" (buf >= 32). */
void fmt_value(double v, enum unit u, char *buf, size_t cap);
/* "2026-12-06 11:00:05 UTC" (buf >= 32); "-" for INT64_MIN. */
void fmt_time(int64_t us, char *buf, size_t cap);

#define CHART_POINTS_MAX 241	/* the grid: up to 240 buckets and the one before */
#define CHART_SERIES_MAX 6
#define CHART_LABEL_MAX 128

struct chart_series {
	char label[CHART_LABEL_MAX];	/* from a server: escaped when drawn */
	int n;
	int64_t t[CHART_POINTS_MAX];	/* microseconds */
	double v[CHART_POINTS_MAX];
	bool brk[CHART_POINTS_MAX];	/* a gap before this point */
};

struct chart {
	const char *id;		/* pga's: "tps", "wal", ... */
	const char *title;	/* pga's */
	const char *note;	/* pga's: how the line is computed, or NULL */
	enum unit unit;
	int64_t x0, x1;		/* the window, microseconds */
	int nseries;
	struct chart_series s[CHART_SERIES_MAX];
};

/* Empty chart over [x0, x1]. */
void chart_init(struct chart *c, const char *id, const char *title, enum unit u,
		int64_t x0, int64_t x1);
/* The series labelled label (escaped later), created if new; NULL when full. */
struct chart_series *chart_series(struct chart *c, const char *label);
/* A new series, whatever its label; NULL when full. */
struct chart_series *chart_series_new(struct chart *c, const char *label);
/* Append a point; ignored when the series is full or v is not finite. */
void chart_add(struct chart_series *s, int64_t t, double v, bool brk);
/* Points in all series. */
int chart_points(const struct chart *c);

/*
 * Draw c as a <figure> with an inline SVG, prefix making the element id
 * unique in the page.  A chart without points is not drawn: a message
 * says so (missing is what is missing, in pga's words).  Returns the
 * number of points drawn.
 */
int chart_draw(struct html *h, const struct chart *c, const char *prefix, const char *missing);

/*
 * A sparkline: n values at times t (brk: gap before), in a small SVG with
 * its values in data attributes; nothing when n is 0.
 */
void spark_draw(struct html *h, const int64_t *t, const double *v, const bool *brk, int n,
		int64_t x0, int64_t x1, enum unit u);

#endif
