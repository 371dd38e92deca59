/* Numbers for people and charts as inline SVG (the contract is in chart.h). */
#define _GNU_SOURCE
#include "report/chart.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>

#include "common/units.h"

/* ---- numbers ---- */

static void
fmt_si(double v, const char *const *units, double step, const char *suffix, char *buf,
       size_t cap)
{
	double a = v < 0 ? -v : v;
	int i = 0;

	while (a >= step * 0.9995 && units[i + 1] != NULL) {
		a /= step;
		v /= step;
		i++;
	}
	if (i == 0 && a == (double)(int64_t)a)
		snprintf(buf, cap, "%.0f%s%s", v, units[0], suffix);
	else
		snprintf(buf, cap, a < 10 ? "%.2f%s%s" : a < 100 ? "%.1f%s%s" : "%.0f%s%s", v,
			 units[i], suffix);
}

void
fmt_value(double v, enum unit u, char *buf, size_t cap)
{
	static const char *const si[] = {"", "k", "M", "G", "T", "P", NULL};
	static const char *const bin[] = {" B", " KiB", " MiB", " GiB", " TiB", " PiB", NULL};

	if (!isfinite(v)) {
		strlcpy(buf, "-", cap);
		return;
	}
	switch (u) {
	case UNIT_COUNT: fmt_si(v, si, 1000, "", buf, cap); break;
	case UNIT_RATE: fmt_si(v, si, 1000, "/s", buf, cap); break;
	case UNIT_BYTES: fmt_si(v, bin, 1024, "", buf, cap); break;
	case UNIT_BYTES_RATE: fmt_si(v, bin, 1024, "/s", buf, cap); break;
	case UNIT_PERCENT: snprintf(buf, cap, "%.1f%%", v); break;
	case UNIT_MS:
		if (v < 1000) {
			snprintf(buf, cap, v < 10 ? "%.2f ms" : "%.1f ms", v);
			break;
		}
		v /= 1000;
		/* FALLTHROUGH */
	case UNIT_SECONDS:
		if (v < 120)
			snprintf(buf, cap, v < 10 ? "%.2f s" : "%.1f s", v);
		else
			pga_format_duration((int64_t)(v * PGA_USEC_PER_SEC), buf, cap);
		break;
	}
}

void
fmt_time(int64_t us, char *buf, size_t cap)
{
	time_t s = (time_t)(us / PGA_USEC_PER_SEC);
	struct tm tm;

	if (us == INT64_MIN) {
		strlcpy(buf, "-", cap);
		return;
	}
	gmtime_r(&s, &tm);
	strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* ---- the chart model ---- */

void
chart_init(struct chart *c, const char *id, const char *title, enum unit u, int64_t x0,
	   int64_t x1)
{
	c->id = id;
	c->title = title;
	c->note = NULL;
	c->unit = u;
	c->x0 = x0;
	c->x1 = x1 > x0 ? x1 : x0 + 1;
	c->nseries = 0;
}

struct chart_series *
chart_series(struct chart *c, const char *label)
{
	for (int i = 0; i < c->nseries; i++)
		if (strcmp(c->s[i].label, label) == 0)
			return &c->s[i];
	return chart_series_new(c, label);
}

struct chart_series *
chart_series_new(struct chart *c, const char *label)
{
	struct chart_series *s;

	if (c->nseries == CHART_SERIES_MAX)
		return NULL;
	s = &c->s[c->nseries++];
	strlcpy(s->label, label, sizeof(s->label));
	s->n = 0;
	return s;
}

void
chart_add(struct chart_series *s, int64_t t, double v, bool brk)
{
	if (s == NULL || s->n == CHART_POINTS_MAX || !isfinite(v))
		return;
	s->t[s->n] = t;
	s->v[s->n] = v;
	s->brk[s->n] = brk || s->n == 0;
	s->n++;
}

int
chart_points(const struct chart *c)
{
	int n = 0;

	for (int i = 0; i < c->nseries; i++)
		n += c->s[i].n;
	return n;
}

/* ---- drawing ---- */

#define W 640
#define H 200
#define PL 64		/* plot area: left, top, right, bottom */
#define PT 10
#define PR 630
#define PB 150

/* The smallest 1, 2 or 5 times a power of ten at or above m (m > 0). */
static double
nice_step(double m)
{
	static const double steps[] = {1, 2, 5, 10};
	double e = 1;

	if (!(m > 0))
		return 1;
	while (e * 10 <= m)
		e *= 10;
	while (e > m)
		e /= 10;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i] * e >= m)
			return steps[i] * e;
	return 10 * e;
}

/* The y axis: about four round steps from 0 to at least m. */
static void
y_axis(double m, enum unit u, double *ymax, int *ticks)
{
	double step;
	int n;

	if (u == UNIT_PERCENT && m <= 100) {
		*ymax = 100;
		*ticks = 4;
		return;
	}
	if (!(m > 0)) {		/* all zero: an axis from 0 to 1 */
		*ymax = 1;
		*ticks = 1;
		return;
	}
	step = nice_step(m / 4);
	n = 1;
	while (n < 8 && step * n < m)
		n++;
	*ymax = step * n;
	*ticks = n;
}

static double
xpos(const struct chart *c, int64_t t, double left, double right)
{
	double f = (double)(t - c->x0) / (double)(c->x1 - c->x0);

	return left + (f < 0 ? 0 : f > 1 ? 1 : f) * (right - left);
}

static void
x_label(const struct chart *c, int64_t t, char *buf, size_t cap)
{
	int64_t span = c->x1 - c->x0;
	time_t s = (time_t)(t / PGA_USEC_PER_SEC);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, cap, span > 2 * 86400 * PGA_USEC_PER_SEC ? "%m-%d %H:%M" :
		 span > 1200 * PGA_USEC_PER_SEC ? "%H:%M" : "%H:%M:%S", &tm);
}

static void
draw_axes(struct html *h, const struct chart *c, double ymax, int ticks)
{
	char v[32];

	for (int i = 0; i <= ticks; i++) {
		double y = PB - (PB - PT) * i / (double)ticks;

		fmt_value(ymax * i / ticks, c->unit, v, sizeof(v));
		html_fmt(h, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
			 "<text class=\"yl\" x=\"%d\" y=\"%.1f\">%s</text>", PL, y, PR, y, PL - 4, y + 4, v);
	}
	for (int i = 0; i <= 4; i++) {
		int64_t t = c->x0 + (c->x1 - c->x0) / 4 * i;
		double x = xpos(c, t, PL, PR);

		x_label(c, t, v, sizeof(v));
		html_fmt(h, "<text class=\"xl%s\" x=\"%.1f\" y=\"%d\">%s</text>",
			 i == 0 ? " first" : i == 4 ? " last" : "", x, PB + 16, v);
	}
	html_fmt(h, "<text class=\"tz\" x=\"%d\" y=\"%d\">UTC</text>", PR, PB + 30);
}

/* The data attributes: times (µs) and values exactly as given. */
static void
data_attrs(struct html *h, const int64_t *t, const double *v, int n)
{
	html_raw(h, " data-t=\"");
	for (int i = 0; i < n; i++)
		html_fmt(h, "%s%" PRId64, i ? " " : "", t[i]);
	html_raw(h, "\" data-v=\"");
	for (int i = 0; i < n; i++)
		html_fmt(h, "%s%.10g", i ? " " : "", v[i]);
	html_raw(h, "\"");
}

/* One line per run of connected points; dots for points alone. */
static void
draw_line(struct html *h, const struct chart *c, const int64_t *t, const double *v,
	  const bool *brk, int n, double ymax, const char *cls, double left, double right,
	  double top, double bottom)
{
	html_fmt(h, "<path class=\"%s\" d=\"", cls);
	for (int i = 0; i < n; i++) {
		double x = xpos(c, t[i], left, right);
		double y = bottom - (bottom - top) * (v[i] < 0 ? 0 : v[i] / ymax);

		html_fmt(h, "%s%.1f %.1f", brk[i] ? (i ? " M" : "M") : " L", x, y);
	}
	html_fmt(h, "\" data-n=\"%d\"", n);
	data_attrs(h, t, v, n);
	html_raw(h, "/>");
	for (int i = 0; i < n; i++) {
		bool alone = brk[i] && (i + 1 == n || brk[i + 1]);
		double x = xpos(c, t[i], left, right);
		double y = bottom - (bottom - top) * (v[i] < 0 ? 0 : v[i] / ymax);

		if (alone)
			html_fmt(h, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>", cls, x, y);
	}
}

static void
draw_legend(struct html *h, const struct chart *c)
{
	for (int i = 0; i < c->nseries; i++) {
		int x = PL + (i % 3) * 190, y = PB + 32 + (i / 3) * 14;

		html_fmt(h, "<rect class=\"s%d\" x=\"%d\" y=\"%d\" width=\"10\" height=\"3\"/>"
			 "<text class=\"lg\" x=\"%d\" y=\"%d\">", i, x, y - 4, x + 14, y);
		if (html_text_cut(h, c->s[i].label, 28))
			html_raw(h, "\xe2\x80\xa6");
		html_raw(h, "</text>");
	}
}

int
chart_draw(struct html *h, const struct chart *c, const char *prefix, const char *missing)
{
	int n = chart_points(c), ticks;
	double ymax = 0;
	char cls[8];

	html_fmt(h, "<figure class=\"chart\" id=\"%s-%s\"><figcaption>", prefix, c->id);
	html_text(h, c->title);
	html_raw(h, "</figcaption>");
	if (n == 0) {
		html_raw(h, "<p class=\"nodata\">");
		html_text(h, missing);
		html_raw(h, "</p></figure>\n");
		return 0;
	}
	for (int i = 0; i < c->nseries; i++)
		for (int j = 0; j < c->s[i].n; j++)
			if (c->s[i].v[j] > ymax)
				ymax = c->s[i].v[j];
	y_axis(ymax, c->unit, &ymax, &ticks);
	html_fmt(h, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" data-chart=\"%s\""
		 " data-points=\"%d\"><title>", W, H + (c->nseries > 3 ? 14 : 0), c->id, n);
	html_text(h, c->title);
	html_raw(h, "</title>");
	draw_axes(h, c, ymax, ticks);
	for (int i = 0; i < c->nseries; i++) {
		snprintf(cls, sizeof(cls), "s%d", i);
		/* the label whole in the group's title: the legend may cut it */
		html_raw(h, "<g data-label=\"");
		html_text(h, c->s[i].label);
		html_raw(h, "\"><title>");
		html_text(h, c->s[i].label);
		html_raw(h, "</title>");
		draw_line(h, c, c->s[i].t, c->s[i].v, c->s[i].brk, c->s[i].n, ymax, cls, PL, PR, PT,
			  PB);
		html_raw(h, "</g>");
	}
	draw_legend(h, c);
	html_raw(h, "</svg>");
	if (c->note != NULL) {
		html_raw(h, "<p class=\"note\">");
		html_text(h, c->note);
		html_raw(h, "</p>");
	}
	html_raw(h, "</figure>\n");
	return n;
}

void
spark_draw(struct html *h, const int64_t *t, const double *v, const bool *brk, int n,
	   int64_t x0, int64_t x1, enum unit u)
{
	struct chart frame;
	double ymax = 0;
	char top[32];

	if (n == 0)
		return;
	chart_init(&frame, "spark", "", u, x0, x1);
	for (int i = 0; i < n; i++)
		if (v[i] > ymax)
			ymax = v[i];
	ymax = ymax > 0 ? ymax : 1;
	fmt_value(ymax, u, top, sizeof(top));
	html_fmt(h, "<svg class=\"spark\" viewBox=\"0 0 120 24\" role=\"img\" data-points=\"%d\">"
		 "<title>peak %s</title>", n, top);
	draw_line(h, &frame, t, v, brk, n, ymax, "sp", 1, 119, 2, 22);
	html_raw(h, "</svg>");
}
