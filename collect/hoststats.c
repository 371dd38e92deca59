/* Host counters from /proc and statvfs, written as CSV rows. */
#define _GNU_SOURCE
#include "collect/hoststats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <bsd/string.h>

#define PROC_STAT "/proc/stat"
#define PROC_LOADAVG "/proc/loadavg"
#define PROC_UPTIME "/proc/uptime"
#define PROC_MEMINFO "/proc/meminfo"
#define PROC_DISKSTATS "/proc/diskstats"
#define PROC_NETDEV "/proc/net/dev"

struct hw {
	host_write_fn fn;
	void *ctx;
	struct pga_err *err;
};

static int
row(struct hw *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
row(struct hw *h, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return pga_fail(h->err, PGA_EINTERNAL, "host row too long");
	return h->fn(h->ctx, line, (size_t)n, h->err);
}

static FILE *
open_proc(const char *path, struct pga_err *err)
{
	FILE *f = fopen(path, "re");

	if (f == NULL)
		pga_fail(err, PGA_EIO, "could not open '%s': %m", path);
	return f;
}

/* Names go into CSV quoted; /proc names have no quotes, but be safe. */
static bool
name_ok(const char *s)
{
	return strpbrk(s, "\",\n\r") == NULL && *s != '\0';
}

static int
host_cpu(struct hw *h)
{
	double hz = (double)sysconf(_SC_CLK_TCK);
	FILE *f = open_proc(PROC_STAT, h->err);
	char line[512];
	int rc = 0;

	if (f == NULL)
		return h->err->code;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char cpu[32];
		unsigned long long v[8] = {0};

		if (strncmp(line, "cpu", 3) != 0 ||
		    sscanf(line, "%31s %llu %llu %llu %llu %llu %llu %llu %llu", cpu, &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 5)
			continue;
		rc = row(h, "%s,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f\n", cpu,
			 v[0] / hz, v[1] / hz, v[2] / hz, v[3] / hz, v[4] / hz, v[5] / hz,
			 v[6] / hz, v[7] / hz);
	}
	fclose(f);
	return rc;
}

static int
read_first_line(const char *path, char *buf, size_t cap, struct pga_err *err)
{
	FILE *f = open_proc(path, err);
	int rc = 0;

	if (f == NULL)
		return err->code;
	if (fgets(buf, (int)cap, f) == NULL)
		rc = pga_fail(err, PGA_EIO, "could not read '%s'", path);
	fclose(f);
	return rc;
}

static int
host_load(struct hw *h)
{
	char line[512];
	double l1, l5, l15, up = 0;
	unsigned long long ctxt = 0, forks = 0, running = 0, blocked = 0;
	FILE *f;
	int rc = read_first_line(PROC_LOADAVG, line, sizeof(line), h->err);

	if (rc < 0)
		return rc;
	if (sscanf(line, "%lf %lf %lf", &l1, &l5, &l15) != 3)
		return pga_fail(h->err, PGA_EIO, "unexpected content in '%s'", PROC_LOADAVG);
	if (read_first_line(PROC_UPTIME, line, sizeof(line), h->err) == 0)
		sscanf(line, "%lf", &up);
	if ((f = open_proc(PROC_STAT, h->err)) == NULL)
		return h->err->code;
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "ctxt %llu", &ctxt);
		sscanf(line, "processes %llu", &forks);
		sscanf(line, "procs_running %llu", &running);
		sscanf(line, "procs_blocked %llu", &blocked);
	}
	fclose(f);
	return row(h, "%.2f,%.2f,%.2f,%llu,%llu,%llu,%llu,%.2f\n", l1, l5, l15,
		   running, blocked, ctxt, forks, up);
}

static const char *const meminfo_keys[] = {
	"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapTotal",
	"SwapFree", "Dirty", "Writeback", "Shmem", "Slab", "Committed_AS",
	"HugePages_Total", "HugePages_Free", NULL,
};

static int
host_memory(struct hw *h)
{
	long long v[16];
	char line[256], out[512];
	size_t n = 0;
	FILE *f = open_proc(PROC_MEMINFO, h->err);

	if (f == NULL)
		return h->err->code;
	for (int i = 0; i < 16; i++)
		v[i] = -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char key[64];
		long long val;
		char unit[8] = "";

		if (sscanf(line, "%63[^:]: %lld %7s", key, &val, unit) < 2)
			continue;
		for (int i = 0; meminfo_keys[i]; i++)
			if (strcmp(key, meminfo_keys[i]) == 0)
				v[i] = strcmp(unit, "kB") == 0 ? val * 1024 : val;
	}
	fclose(f);
	for (int i = 0; meminfo_keys[i]; i++) {
		if (v[i] >= 0)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%lld", i ? "," : "", v[i]);
		else
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", i ? "," : "");
	}
	snprintf(out + n, sizeof(out) - n, "\n");
	return h->fn(h->ctx, out, strlen(out), h->err);
}

static int
host_disk(struct hw *h)
{
	FILE *f = open_proc(PROC_DISKSTATS, h->err);
	char line[512];
	int rc = 0;

	if (f == NULL)
		return h->err->code;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		unsigned major, minor;
		char dev[64];
		unsigned long long v[11];

		if (sscanf(line, "%u %u %63s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &major, &minor, dev, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			   &v[6], &v[7], &v[8], &v[9], &v[10]) != 14 ||
		    strncmp(dev, "loop", 4) == 0 || strncmp(dev, "ram", 3) == 0 ||
		    !name_ok(dev))
			continue;
		rc = row(h, "%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n",
			 dev, v[0], v[1], v[2] * 512, v[3], v[4], v[5], v[6] * 512, v[7],
			 v[8], v[9], v[10]);
	}
	fclose(f);
	return rc;
}

static int
host_net(struct hw *h)
{
	FILE *f = open_proc(PROC_NETDEV, h->err);
	char line[512];
	int rc = 0;

	if (f == NULL)
		return h->err->code;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char ifname[64];
		unsigned long long v[16];
		char *colon = strchr(line, ':');

		if (colon == NULL)
			continue;	/* the two header lines */
		*colon = ' ';
		if (sscanf(line, "%63s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   ifname, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
			   &v[8], &v[9], &v[10], &v[11]) != 13 || !name_ok(ifname))
			continue;
		rc = row(h, "%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n", ifname, v[0],
			 v[1], v[2], v[3], v[8], v[9], v[10], v[11]);
	}
	fclose(f);
	return rc;
}

static int
host_fs(struct hw *h, const char *datadir)
{
	struct statvfs sv;

	if (datadir == NULL || *datadir == '\0')
		return pga_fail(h->err, PGA_EINVAL,
				"data directory unknown: set data-directory or grant pg_read_all_settings");
	if (!name_ok(datadir))
		return pga_fail(h->err, PGA_EINVAL, "unusual data directory name '%s'", datadir);
	if (statvfs(datadir, &sv) != 0)
		return pga_fail(h->err, PGA_EIO, "could not statvfs '%s': %m", datadir);
	return row(h, "%s,%llu,%llu,%llu,%llu,%llu\n", datadir,
		   (unsigned long long)sv.f_blocks * sv.f_frsize,
		   (unsigned long long)sv.f_bfree * sv.f_frsize,
		   (unsigned long long)sv.f_bavail * sv.f_frsize,
		   (unsigned long long)sv.f_files, (unsigned long long)sv.f_ffree);
}

int
host_metric(const char *name, const char *datadir, host_write_fn fn, void *ctx,
	    struct pga_err *err)
{
	struct hw h = {.fn = fn, .ctx = ctx, .err = err};

	if (strcmp(name, "host_cpu") == 0)
		return host_cpu(&h);
	if (strcmp(name, "host_load") == 0)
		return host_load(&h);
	if (strcmp(name, "host_memory") == 0)
		return host_memory(&h);
	if (strcmp(name, "host_disk") == 0)
		return host_disk(&h);
	if (strcmp(name, "host_net") == 0)
		return host_net(&h);
	if (strcmp(name, "host_fs") == 0)
		return host_fs(&h, datadir);
	return pga_fail(err, PGA_EINTERNAL, "unknown host metric '%s'", name);
}

int
host_is_local(const char *host, const char *hostaddr)
{
	const char *h = hostaddr && *hostaddr ? hostaddr : host;

	if (h == NULL || *h == '\0' || *h == '/' || *h == '@')
		return 1;
	return strcmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 ||
	       strcmp(h, "::1") == 0;
}
