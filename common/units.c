#include "common/units.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/libutil.h>

int64_t
pga_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * PGA_USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t
pga_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * PGA_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static int
unit_multiplier(const char *u, int64_t bare_us, int64_t *mult)
{
	static const struct {
		const char *name;
		int64_t us;
	} units[] = {
		{"us", 1}, {"ms", 1000}, {"s", PGA_USEC_PER_SEC},
		{"sec", PGA_USEC_PER_SEC}, {"m", 60 * PGA_USEC_PER_SEC},
		{"min", 60 * PGA_USEC_PER_SEC}, {"h", 3600 * PGA_USEC_PER_SEC},
		{"d", 86400 * PGA_USEC_PER_SEC}, {"w", 7 * 86400 * PGA_USEC_PER_SEC},
	};

	if (*u == '\0') {
		*mult = bare_us;
		return 0;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(u, units[i].name) == 0) {
			*mult = units[i].us;
			return 0;
		}
	return -1;
}

int
pga_parse_duration_unit(const char *s, int64_t bare_us, int64_t *out_us, struct pga_err *err)
{
	char *end;
	double v;
	int64_t mult;

	errno = 0;
	v = strtod(s, &end);
	if (end != s)
		end += strspn(end, " ");	/* "10 s", as postgresql.conf takes it */
	if (end == s || errno != 0 || v < 0 || !isdigit((unsigned char)*s) ||
	    unit_multiplier(end, bare_us, &mult) != 0)
		return pga_fail(err, PGA_EINVAL,
				"invalid duration '%s' (use us, ms, s, min, h, d or w, e.g. 250ms, "
				"60s, 5min; a bare number is %s)", s,
				bare_us == 1000 ? "milliseconds" : bare_us == 1 ? "microseconds" :
				"seconds");
	if (v * (double)mult > 9.2e18)
		return pga_fail(err, PGA_EINVAL, "duration '%s' is too large", s);
	*out_us = (int64_t)(v * (double)mult);
	return 0;
}

int
pga_parse_duration(const char *s, int64_t *out_us, struct pga_err *err)
{
	return pga_parse_duration_unit(s, PGA_USEC_PER_SEC, out_us, err);
}

int
pga_parse_size(const char *s, uint64_t *out, struct pga_err *err)
{
	static const char suffixes[] = "KMGTP";
	char *end;
	unsigned long long v;
	uint64_t mult = 1;
	const char *p;

	errno = 0;
	if (!isdigit((unsigned char)*s))
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		goto bad;
	end += strspn(end, " ");	/* "10 MB", as postgresql.conf takes it */
	if (*end != '\0') {
		p = strchr(suffixes, toupper((unsigned char)*end));
		if (p == NULL)
			goto bad;
		for (const char *q = suffixes; q <= p; q++)
			mult *= 1024;
		end++;
		if (strcmp(end, "") != 0 && strcmp(end, "B") != 0 &&
		    strcmp(end, "iB") != 0 && strcmp(end, "b") != 0)
			goto bad;
	}
	if (v > UINT64_MAX / mult)
		goto bad;
	*out = v * mult;
	return 0;
bad:
	return pga_fail(err, PGA_EINVAL,
			"invalid size '%s' (use kB, MB, GB or TB, e.g. 64kB, 10MB, 1GB; a bare "
			"number is bytes)", s);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
parse_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int
parse_fraction_and_zone(const char *p, int64_t *frac_us, int64_t *off_us)
{
	int hh, mm = 0;
	int sign;

	*frac_us = 0;
	*off_us = 0;
	if (*p == '.' || *p == ',') {
		int64_t scale = 100000;

		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++) {
			*frac_us += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == '\0' || strcmp(p, "Z") == 0 || strcmp(p, "z") == 0)
		return 0;
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p == '-' ? -1 : 1;
	p++;
	if (parse_digits(&p, 2, &hh) != 0)
		return -1;
	if (*p == ':')
		p++;
	if (*p != '\0' && parse_digits(&p, 2, &mm) != 0)
		return -1;
	if (*p != '\0' || hh > 23 || mm > 59)
		return -1;
	*off_us = sign * ((int64_t)hh * 3600 + mm * 60) * PGA_USEC_PER_SEC;
	return 0;
}

static int
parse_absolute(const char *s, int64_t *out)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, se = 0;
	int64_t frac, off;

	if (parse_digits(&p, 4, &y) || *p++ != '-' || parse_digits(&p, 2, &mo) ||
	    *p++ != '-' || parse_digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (parse_digits(&p, 2, &h) || *p++ != ':' || parse_digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (parse_digits(&p, 2, &se))
				return -1;
		}
		if (h > 23 || mi > 59 || se > 60)
			return -1;
	}
	if (parse_fraction_and_zone(p, &frac, &off) != 0)
		return -1;
	*out = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) *
		PGA_USEC_PER_SEC) + frac - off;
	return 0;
}

int
pga_parse_time(const char *s, int64_t now_us, int64_t *out, struct pga_err *err)
{
	int64_t delta;

	if (strcmp(s, "now") == 0) {
		*out = now_us;
		return 0;
	}
	if (s[0] == '-' || s[0] == '+') {
		if (pga_parse_duration(s + 1, &delta, NULL) != 0)
			goto bad;
		*out = s[0] == '-' ? now_us - delta : now_us + delta;
		return 0;
	}
	if (parse_absolute(s, out) == 0)
		return 0;
bad:
	return pga_fail(err, PGA_EINVAL,
			"invalid time '%s' (use ISO 8601 UTC like 2026-01-31T12:00:00Z, or -2h)",
			s);
}

static void
split_time(int64_t us, struct tm *tm, long *frac)
{
	int64_t secs = us / PGA_USEC_PER_SEC;
	time_t t;

	*frac = (long)(us % PGA_USEC_PER_SEC);
	if (*frac < 0) {
		*frac += PGA_USEC_PER_SEC;
		secs--;
	}
	t = (time_t)secs;
	gmtime_r(&t, tm);
}

void
pga_format_time(int64_t us, char *buf, size_t cap)
{
	struct tm tm;
	long frac;
	size_t n;

	split_time(us, &tm, &frac);
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac != 0)
		snprintf(buf + n, cap - n, ".%06ldZ", frac);
	else
		snprintf(buf + n, cap - n, "Z");
}

void
pga_format_time_compact(int64_t us, char *buf, size_t cap)
{
	struct tm tm;
	long frac;

	split_time(us, &tm, &frac);
	strftime(buf, cap, "%Y%m%dT%H%M%SZ", &tm);
}

void
pga_format_size(uint64_t bytes, char *buf, size_t cap)
{
	if (humanize_number(buf, cap < 6 ? cap : 6, (int64_t)bytes, "",
			    HN_AUTOSCALE, HN_DECIMAL | HN_NOSPACE | HN_B) < 0)
		snprintf(buf, cap, "%" PRIu64, bytes);
}

void
pga_format_duration(int64_t us, char *buf, size_t cap)
{
	int64_t s = us / PGA_USEC_PER_SEC;

	if (us < 0)
		snprintf(buf, cap, "-");
	else if (s < 60)
		snprintf(buf, cap, "%.1fs", (double)us / PGA_USEC_PER_SEC);
	else if (s < 3600)
		snprintf(buf, cap, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, cap, "%" PRId64 "h%02" PRId64 "m", s / 3600, s / 60 % 60);
	else
		snprintf(buf, cap, "%" PRId64 "d%02" PRId64 "h", s / 86400, s / 3600 % 24);
}
