/* The health verdict and the Prometheus textfile; see health.h. */
#define _GNU_SOURCE
#include "cmd/health.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/units.h"
#include "common/utf8.h"

/* A textfile holds a few lines per target and destination: 16 MiB is far. */
#define PROM_MAX (16u << 20)

const char *
health_level_name(int level)
{
	return level == HEALTH_OK ? "OK" : level == HEALTH_WARNING ? "WARNING" : "CRITICAL";
}

void
health_finding(struct health *h, int level, const char *fmt, ...)
{
	va_list ap;

	if (level > h->level)
		h->level = level;
	if (h->nfindings == HEALTH_FINDINGS_MAX) {
		h->dropped++;
		return;
	}
	h->findings[h->nfindings].level = level;
	va_start(ap, fmt);
	vsnprintf(h->findings[h->nfindings].text, HEALTH_FINDING_LEN, fmt, ap);
	va_end(ap);
	h->nfindings++;
}

static void
ago(int64_t now, int64_t us, char *buf, size_t cap)
{
	pga_format_duration(now > us ? now - us : 0, buf, cap);
}

/* ---- judging ---- */

static void
judge_spool(struct health *h)
{
	uint64_t max = h->cfg->global.spool_max;
	uint64_t warn = max / 100 * (uint64_t)h->cfg->global.status_spool_warn;

	if (max > 0 && h->sum.usage >= max)
		health_finding(h, HEALTH_CRITICAL, "spool '%s' is full: %" PRIu64 " of %" PRIu64
			       " bytes (spool-max)", h->spool, h->sum.usage, max);
	else if (max > 0 && h->sum.usage >= warn)
		health_finding(h, HEALTH_WARNING, "spool '%s' holds %.0f%% of spool-max "
			       "(status-spool-warn %lld%%)", h->spool,
			       100.0 * (double)h->sum.usage / (double)max,
			       h->cfg->global.status_spool_warn);
	if (h->sum.quarantined > 0)
		health_finding(h, HEALTH_WARNING, "%zu segments in quarantine (look at "
			       "%s/quarantine/*.why)", h->sum.quarantined, h->spool);
}

static void
judge_target(struct health *h, const struct pga_target *t, const struct collect_target_health *r)
{
	int64_t stale = h->cfg->global.status_stale_after;
	char a[24], b[24];

	if (!r->recorded) {
		health_finding(h, HEALTH_WARNING, "target '%s': never collected", t->name);
		return;
	}
	if (r->last_error_us > r->last_success_us) {
		int64_t since = r->failing_since_us ? r->failing_since_us : r->last_error_us;
		int64_t quiet = r->last_success_us ? r->last_success_us : since;

		ago(h->now, since, a, sizeof(a));
		health_finding(h, h->now - quiet > stale ? HEALTH_CRITICAL : HEALTH_WARNING,
			       "target '%s': failing for %s (%" PRIu64 " attempts): %s", t->name,
			       a, r->failures, r->last_error);
		return;
	}
	if (h->now - r->last_success_us > stale) {
		ago(h->now, r->last_success_us, a, sizeof(a));
		pga_format_duration(stale, b, sizeof(b));
		health_finding(h, HEALTH_CRITICAL, "target '%s': no snapshot for %s "
			       "(status-stale-after %s)", t->name, a, b);
	}
}

static void
judge_collect(struct health *h)
{
	int64_t stale = h->cfg->global.status_stale_after;
	size_t enabled = 0;
	char a[24];

	for (size_t i = 0; i < h->cfg->ntargets; i++)
		enabled += h->cfg->targets[i].enabled;
	if (enabled == 0)
		return;	/* a spool fed otherwise (spool put) or a shipping host */
	if (!h->cycle.recorded) {
		health_finding(h, HEALTH_WARNING, "no collect cycle recorded in '%s'", h->spool);
	} else if (h->now - h->cycle.start_us > stale) {
		ago(h->now, h->cycle.start_us, a, sizeof(a));
		health_finding(h, HEALTH_CRITICAL, "the last collect cycle started %s ago: "
			       "is pga collect running?", a);
	} else if (h->cycle.last_collected_us != 0 &&
		   h->now - h->cycle.last_collected_us > stale) {
		ago(h->now, h->cycle.last_collected_us, a, sizeof(a));
		health_finding(h, HEALTH_CRITICAL, "nothing collected for %s", a);
	}	/* never collected: each target's finding says since when */
	for (size_t i = 0; i < h->cfg->ntargets; i++)
		if (h->cfg->targets[i].enabled)
			judge_target(h, &h->cfg->targets[i], &h->targets[i]);
}

static void
judge_dests(struct health *h)
{
	int64_t stale = h->cfg->global.status_stale_after;
	char a[24];

	for (size_t i = 0; i < h->ndests; i++) {
		const struct ship_dest_report *r = &h->dests[i];

		if (!r->dest->enabled)
			continue;
		if (r->stopped) {
			health_finding(h, HEALTH_CRITICAL, "destination '%s': stopped until pga ship "
				       "restarts: %s", r->dest->name, r->last_error);
		} else if (r->failing) {
			int64_t quiet = r->last_success_us > 0 ? r->last_success_us : r->failing_since_us;

			ago(h->now, r->failing_since_us, a, sizeof(a));
			health_finding(h, h->now - quiet > stale ? HEALTH_CRITICAL : HEALTH_WARNING,
				       "destination '%s': failing for %s: %s", r->dest->name, a,
				       r->last_error);
		} else if (r->oldest_pending_us != 0 && h->now - r->oldest_pending_us > stale) {
			ago(h->now, r->oldest_pending_us, a, sizeof(a));
			health_finding(h, HEALTH_WARNING, "destination '%s': oldest pending segment "
				       "is %s old: is pga ship running?", r->dest->name, a);
		}
	}
}

int
health_gather(struct health *h, const struct pga_config *cfg, const char *spool,
	      struct pga_err *err)
{
	struct spool *sp = NULL;
	struct pga_err e = {0};
	int rc;

	memset(h, 0, sizeof(*h));
	h->cfg = cfg;
	h->spool = spool != NULL ? spool : cfg->global.spool_path;
	h->now = pga_now_us();
	h->targets = calloc(cfg->ntargets ? cfg->ntargets : 1, sizeof(*h->targets));
	if (h->targets == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = spool_open(&sp, h->spool, &e);
	if (rc == 0)
		rc = spool_summarise(sp, &h->sum, &e);
	if (rc == 0)
		rc = cmd_counters_read(sp, &h->counters, &e);
	if (rc < 0) {
		spool_free(sp);
		log_err(&e);	/* at debug level: where it was raised */
		health_finding(h, HEALTH_CRITICAL, "%s", e.msg);
		return rc == PGA_ENOMEM ? pga_fail(err, rc, "%s", e.msg) : 0;
	}
	h->spool_read = true;
	if (collect_cycle_health(sp, &h->cycle, &e) < 0)
		health_finding(h, HEALTH_WARNING, "%s", e.msg);
	for (size_t i = 0; i < cfg->ntargets; i++)
		if (cfg->targets[i].enabled &&
		    collect_target_health(sp, cfg->targets[i].name, &h->targets[i], &e) < 0)
			health_finding(h, HEALTH_WARNING, "target '%s': %s", cfg->targets[i].name,
				       e.msg);
	spool_free(sp);
	if (ship_report(cfg, h->spool, &h->dests, &h->ndests, &e) < 0)
		health_finding(h, HEALTH_CRITICAL, "destinations: %s", e.msg);
	judge_spool(h);
	judge_collect(h);
	judge_dests(h);
	return 0;
}

void
health_add_central(struct health *h, const struct load_opts *o)
{
	int64_t stale = h->cfg->global.status_stale_after;
	struct pga_err e = {0};

	int64_t orphans = 0;

	if (load_central_health(o, &h->central, &h->ncentral, &orphans, &e) < 0) {
		health_finding(h, HEALTH_CRITICAL, "central: %s", e.msg);
		return;
	}
	if (orphans > 0)
		health_finding(h, HEALTH_WARNING, "central: %" PRId64 " refused segments whose "
			       "collector could not be read (quarantine)", orphans);
	for (size_t i = 0; i < h->ncentral; i++) {
		const struct load_collector_health *c = &h->central[i];
		char name[160], a[24];

		pga_escape(c->collector, name, sizeof(name));
		if (c->gaps || c->chain_breaks || c->quarantined || c->held)
			health_finding(h, HEALTH_WARNING, "central: collector '%s': %" PRId64
				       " gaps, %" PRId64 " chain breaks, %" PRId64
				       " quarantined, %" PRId64 " held forks", name, c->gaps,
				       c->chain_breaks, c->quarantined, c->held);
		if (c->last_snapshot_us != 0 && h->now - c->last_snapshot_us > stale) {
			ago(h->now, c->last_snapshot_us, a, sizeof(a));
			health_finding(h, HEALTH_WARNING, "central: collector '%s': last snapshot "
				       "loaded %s ago", name, a);
		}
	}
}

void
health_free(struct health *h)
{
	free(h->targets);
	free(h->dests);
	free(h->central);
	h->targets = NULL;
	h->dests = NULL;
	h->central = NULL;
}

/* ---- the textfile ---- */

void
health_prom_label(struct dynbuf *b, const char *v)
{
	size_t len = strlen(v), i = 0;

	while (i < len) {
		size_t ok = utf8_valid_prefix(v + i, len - i);

		for (size_t k = 0; k < ok; k++, i++) {
			unsigned char c = (unsigned char)v[i];

			if (c == '\\')
				dynbuf_adds(b, "\\\\");
			else if (c == '"')
				dynbuf_adds(b, "\\\"");
			else if (c == '\n')
				dynbuf_adds(b, "\\n");
			else if (c < 0x20 || c == 0x7f)
				dynbuf_addf(b, "\\\\x%02X", c);	/* shown as \xNN */
			else
				dynbuf_addc(b, (char)c);
		}
		if (i < len)	/* not UTF-8: the byte as \xNN text */
			dynbuf_addf(b, "\\\\x%02X", (unsigned char)v[i++]);
	}
}

static void
family(struct dynbuf *b, const char *name, const char *type, const char *help)
{
	dynbuf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
sample_head(struct dynbuf *b, const char *name, const char *label, const char *value)
{
	dynbuf_adds(b, name);
	if (label != NULL) {
		dynbuf_addf(b, "{%s=\"", label);
		health_prom_label(b, value);
		dynbuf_adds(b, "\"}");
	}
	dynbuf_addc(b, ' ');
}

static void
sample_u64(struct dynbuf *b, const char *name, const char *label, const char *value, uint64_t v)
{
	sample_head(b, name, label, value);
	dynbuf_addf(b, "%" PRIu64 "\n", v);
}

/* A time as seconds since the epoch, milliseconds kept; 0 for never. */
static void
sample_time(struct dynbuf *b, const char *name, const char *label, const char *value, int64_t us)
{
	sample_head(b, name, label, value);
	dynbuf_addf(b, "%" PRId64 ".%03" PRId64 "\n", us / 1000000, us % 1000000 / 1000);
}

static void
prom_spool(const struct health *h, struct dynbuf *b)
{
	family(b, "pga_spool_usage_bytes", "gauge", "Bytes the spool holds, as spool-max counts them.");
	sample_u64(b, "pga_spool_usage_bytes", NULL, NULL, h->sum.usage);
	family(b, "pga_spool_max_bytes", "gauge", "The spool-max setting.");
	sample_u64(b, "pga_spool_max_bytes", NULL, NULL, h->cfg->global.spool_max);
	family(b, "pga_spool_sealed_segments", "gauge", "Sealed segments in the spool.");
	sample_u64(b, "pga_spool_sealed_segments", NULL, NULL, h->sum.sealed);
	family(b, "pga_spool_sealed_bytes", "gauge", "Bytes of the sealed segments in the spool.");
	sample_u64(b, "pga_spool_sealed_bytes", NULL, NULL, h->sum.bytes);
	family(b, "pga_spool_quarantined_segments", "gauge", "Segments in the spool's quarantine.");
	sample_u64(b, "pga_spool_quarantined_segments", NULL, NULL, h->sum.quarantined);
	family(b, "pga_spool_oldest_segment_timestamp_seconds", "gauge",
	       "Creation time of the oldest sealed segment; 0 when none.");
	sample_time(b, "pga_spool_oldest_segment_timestamp_seconds", NULL, NULL, h->sum.oldest_us);
	for (size_t s = 0; s < CMD_COUNTER_SETS; s++)
		for (size_t i = 0; i < cmd_counter_sets[s]->n; i++) {
			char name[128], help[160];

			snprintf(name, sizeof(name), "pga_%s_total", cmd_counter_sets[s]->names[i]);
			snprintf(help, sizeof(help), "The %s counter %s (pga spool ls).",
				 cmd_counter_sets[s]->part, cmd_counter_sets[s]->names[i]);
			family(b, name, "counter", help);
			sample_u64(b, name, NULL, NULL, h->counters.v[s].v[i]);
		}
}

static void
prom_collect(const struct health *h, struct dynbuf *b)
{
	const struct pga_config *cfg = h->cfg;
	static const struct {
		const char *name, *type, *help;
	} tf[] = {
		{"pga_target_up", "gauge", "1 when the target's last attempt gave a complete snapshot."},
		{"pga_target_last_success_timestamp_seconds", "gauge",
		 "Start of the last cycle that gave a complete snapshot of the target; 0: never."},
		{"pga_target_last_error_timestamp_seconds", "gauge",
		 "Start of the last cycle that failed the target; 0: never."},
		{"pga_target_failing_since_timestamp_seconds", "gauge",
		 "First failure since the target's last success; 0 when it is not failing."},
		{"pga_target_consecutive_failures", "gauge", "Failed attempts since the last success."},
	};

	if (h->cycle.recorded) {
		family(b, "pga_collect_last_cycle_start_timestamp_seconds", "gauge",
		       "Start of the last collect cycle.");
		sample_time(b, "pga_collect_last_cycle_start_timestamp_seconds", NULL, NULL,
			    h->cycle.start_us);
		family(b, "pga_collect_last_cycle_duration_seconds", "gauge",
		       "How long the last collect cycle took.");
		sample_head(b, "pga_collect_last_cycle_duration_seconds", NULL, NULL);
		dynbuf_addf(b, "%.6f\n", (double)h->cycle.duration_us / 1e6);
		family(b, "pga_collect_last_success_timestamp_seconds", "gauge",
		       "Start of the last collect cycle that collected anything; 0: never.");
		sample_time(b, "pga_collect_last_success_timestamp_seconds", NULL, NULL,
			    h->cycle.last_collected_us);
	}
	for (size_t f = 0; f < sizeof(tf) / sizeof(tf[0]); f++) {
		bool any = false;

		for (size_t i = 0; i < cfg->ntargets; i++) {
			const struct collect_target_health *r = &h->targets[i];
			const char *n = cfg->targets[i].name;

			if (!cfg->targets[i].enabled || !r->recorded)
				continue;
			if (!any)
				family(b, tf[f].name, tf[f].type, tf[f].help);
			any = true;
			if (f == 0)
				sample_u64(b, tf[f].name, "target", n,
					   r->last_success_us >= r->last_error_us);
			else if (f == 1)
				sample_time(b, tf[f].name, "target", n, r->last_success_us);
			else if (f == 2)
				sample_time(b, tf[f].name, "target", n, r->last_error_us);
			else if (f == 3)
				sample_time(b, tf[f].name, "target", n,
					    r->last_error_us > r->last_success_us ? r->failing_since_us : 0);
			else
				sample_u64(b, tf[f].name, "target", n, r->failures);
		}
	}
}

static void
prom_dests(const struct health *h, struct dynbuf *b)
{
	static const struct {
		const char *name, *type, *help;
	} df[] = {
		{"pga_destination_up", "gauge", "0 when the destination's last attempt failed or it stopped."},
		{"pga_destination_pending_segments", "gauge", "Segments waiting for this destination."},
		{"pga_destination_pending_bytes", "gauge", "Bytes waiting for this destination."},
		{"pga_destination_oldest_pending_timestamp_seconds", "gauge",
		 "Creation time of the oldest segment waiting; 0 when none."},
		{"pga_destination_last_success_timestamp_seconds", "gauge",
		 "Last confirmed delivery; 0: never."},
		{"pga_destination_last_error_timestamp_seconds", "gauge", "Last failed attempt; 0: never."},
		{"pga_destination_delivered_segments_total", "counter", "Segments delivered."},
		{"pga_destination_delivered_bytes_total", "counter", "Bytes delivered."},
		{"pga_destination_failed_attempts_total", "counter", "Failed attempts."},
	};

	for (size_t f = 0; f < sizeof(df) / sizeof(df[0]); f++) {
		bool any = false;

		for (size_t i = 0; i < h->ndests; i++) {
			const struct ship_dest_report *r = &h->dests[i];
			const char *n = r->dest->name;
			const char *l = "destination";

			if (!r->dest->enabled)
				continue;
			if (!any)
				family(b, df[f].name, df[f].type, df[f].help);
			any = true;
			switch (f) {
			case 0: sample_u64(b, df[f].name, l, n, !r->failing); break;
			case 1: sample_u64(b, df[f].name, l, n, r->pending_segments); break;
			case 2: sample_u64(b, df[f].name, l, n, r->pending_bytes); break;
			case 3: sample_time(b, df[f].name, l, n, r->oldest_pending_us); break;
			case 4: sample_time(b, df[f].name, l, n, r->last_success_us); break;
			case 5: sample_time(b, df[f].name, l, n, r->last_error_us); break;
			case 6: sample_u64(b, df[f].name, l, n, r->delivered); break;
			case 7: sample_u64(b, df[f].name, l, n, r->delivered_bytes); break;
			default: sample_u64(b, df[f].name, l, n, r->failed_attempts); break;
			}
		}
	}
}

static void
prom_central(const struct health *h, struct dynbuf *b)
{
	static const struct {
		const char *name, *help;
	} cf[] = {
		{"pga_central_collector_last_snapshot_timestamp_seconds",
		 "Newest snapshot loaded centrally from this collector; 0: none."},
		{"pga_central_collector_lag_seconds", "Age of the newest snapshot loaded centrally."},
		{"pga_central_collector_segments", "Segments loaded centrally."},
		{"pga_central_collector_gaps", "Gaps in the collector's segment sequence."},
		{"pga_central_collector_missing_segments", "Segments the gaps miss."},
		{"pga_central_collector_chain_breaks", "Segments whose chain hash does not match."},
		{"pga_central_collector_quarantined", "Unresolved quarantine records (segments and blocks)."},
		{"pga_central_collector_held_forks", "Unresolved forks held for a decision."},
		{"pga_central_collector_blocks_refused", "Blocks refused inside loaded segments."},
	};

	for (size_t f = 0; f < sizeof(cf) / sizeof(cf[0]) && h->ncentral > 0; f++) {
		family(b, cf[f].name, "gauge", cf[f].help);
		for (size_t i = 0; i < h->ncentral; i++) {
			const struct load_collector_health *c = &h->central[i];
			const char *n = c->collector, *l = "collector";

			switch (f) {
			case 0: sample_time(b, cf[f].name, l, n, c->last_snapshot_us); break;
			case 1:
				sample_head(b, cf[f].name, l, n);
				dynbuf_addf(b, "%.3f\n", c->last_snapshot_us == 0 ? 0.0 :
					    (double)(h->now - c->last_snapshot_us) / 1e6);
				break;
			case 2: sample_u64(b, cf[f].name, l, n, (uint64_t)c->segments); break;
			case 3: sample_u64(b, cf[f].name, l, n, (uint64_t)c->gaps); break;
			case 4: sample_u64(b, cf[f].name, l, n, (uint64_t)c->missing); break;
			case 5: sample_u64(b, cf[f].name, l, n, (uint64_t)c->chain_breaks); break;
			case 6: sample_u64(b, cf[f].name, l, n, (uint64_t)c->quarantined); break;
			case 7: sample_u64(b, cf[f].name, l, n, (uint64_t)c->held); break;
			default: sample_u64(b, cf[f].name, l, n, (uint64_t)c->blocks_refused); break;
			}
		}
	}
}

int
health_prometheus(const struct health *h, bool local, struct dynbuf *b, struct pga_err *err)
{
	family(b, "pga_status", "gauge", "The verdict of pga status: 0 ok, 1 warning, 2 critical.");
	sample_u64(b, "pga_status", NULL, NULL, (uint64_t)h->level);
	family(b, "pga_status_findings", "gauge", "Findings of pga status (its text lists them).");
	sample_u64(b, "pga_status_findings", NULL, NULL, h->nfindings + h->dropped);
	family(b, "pga_status_timestamp_seconds", "gauge", "When this file was written.");
	sample_time(b, "pga_status_timestamp_seconds", NULL, NULL, h->now);
	if (local && h->spool_read) {
		prom_spool(h, b);
		prom_collect(h, b);
		prom_dests(h, b);
	}
	prom_central(h, b);
	return dynbuf_check(b, "the prometheus textfile", err);
}

/* Threads of one process (ship's destinations) take turns: the temp name is the pid's. */
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

static int
write_tmp(const char *tmp, const struct dynbuf *b, struct pga_err *err)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	int rc;

	if (fd < 0)
		return pga_fail(err, pga_errno_code(errno), "could not create '%s': %m", tmp);
	rc = pga_write_all(fd, dynbuf_str(b), dynbuf_len(b), tmp, err);
	if (rc == 0)
		rc = pga_fsync_fd(fd, tmp, err);
	if (close(fd) != 0 && rc == 0)
		rc = pga_fail(err, pga_errno_code(errno), "could not close '%s': %m", tmp);
	return rc;
}

/*
 * A writer killed mid-write leaves its temporary file: remove those whose
 * process is gone (another live writer's is left alone).
 */
static void
remove_stale_tmps(const char *dir, const char *base)
{
	struct dirent *de;
	size_t blen = strlen(base);
	DIR *dh = opendir(dir);

	if (dh == NULL)
		return;
	while ((de = readdir(dh)) != NULL) {
		const char *n = de->d_name;
		char *end;
		long pid;

		if (n[0] != '.' || strncmp(n + 1, base, blen) != 0 || n[1 + blen] != '.')
			continue;
		pid = strtol(n + 2 + blen, &end, 10);
		if (pid <= 0 || strcmp(end, ".tmp") != 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
			unlinkat(dirfd(dh), n, 0);
	}
	closedir(dh);
}

int
health_prometheus_write(const struct health *h, bool local, const char *path,
			struct pga_err *err)
{
	char dcopy[PATH_MAX], bcopy[PATH_MAX], tmp[PATH_MAX];
	const char *dir, *base;
	struct dynbuf b;
	int rc;

	/* hidden and not *.prom: node_exporter never reads a temporary file */
	strlcpy(dcopy, path, sizeof(dcopy));
	strlcpy(bcopy, path, sizeof(bcopy));
	dir = dirname(dcopy);
	base = basename(bcopy);
	rc = pga_path(tmp, sizeof(tmp), err, "%s/.%s.%ld.tmp", dir, base, (long)getpid());
	if (rc < 0)
		return rc;
	remove_stale_tmps(dir, base);
	dynbuf_init(&b, PROM_MAX);
	rc = health_prometheus(h, local, &b, err);
	pthread_mutex_lock(&write_mu);
	if (rc == 0)
		rc = write_tmp(tmp, &b, err);
	if (rc == 0)
		rc = pga_rename_durable(tmp, path, err);
	if (rc < 0)
		unlink(tmp);
	pthread_mutex_unlock(&write_mu);
	dynbuf_free(&b);
	return rc;
}

void
health_write_configured(const struct pga_config *cfg, const char *spool)
{
	struct health h;
	struct pga_err err = {0};

	if (cfg->global.prometheus_file == NULL || cfg->global.prometheus_file[0] == '\0')
		return;
	if (health_gather(&h, cfg, spool, &err) == 0 &&
	    health_prometheus_write(&h, true, cfg->global.prometheus_file, &err) == 0) {
		health_free(&h);
		return;
	}
	health_free(&h);
	log_warn("prometheus-file: %s", err.msg);
}
