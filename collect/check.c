/*
 * check.c - the target half of `pga check`: can pga collect everything?
 *
 * For each target: connect (bounded by connect-timeout), read the server's
 * identity and our role's privileges, reach every database the collector
 * would, and run every metric of the catalog the way a cycle does (COPY in
 * a read-only snapshot, each behind a savepoint) with the output counted
 * and thrown away.  What would fail in a cycle fails here, with the same
 * message.  Problems: no connection, a database that cannot be reached,
 * neither superuser nor pg_monitor (other sessions' rows are masked), no
 * pg_stat_statements, any metric error, an unreadable csvlog.
 */
#define _GNU_SOURCE
#include "collect/collect_int.h"

#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "collect/cpg.h"
#include "collect/custom.h"
#include "collect/hoststats.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/pgutil.h"
#include "common/units.h"

#define CHECK_PROBLEMS_MAX 64

struct check {
	const struct pga_config *cfg;
	const struct pga_target *t;
	int64_t deadline;
	/* what we learned */
	char version[64];
	int version_num;
	char sysid[32], user[CDB_NAME_MAX], database[CDB_NAME_MAX];
	char datadir[PATH_MAX];
	bool superuser, monitor, all_stats;
	int64_t connect_ms;
	unsigned ndbs, dbs_ok;
	char pgss_version[16], pgss_schema[136], pgss_db[CDB_NAME_MAX];
	unsigned metrics_ok, metrics_failed, metrics_absent;
	struct cfacts facts;		/* of the connection's database */
	char *problems[CHECK_PROBLEMS_MAX];
	unsigned nproblems;
	struct jsonw *json;
};

static void
problem(struct check *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
problem(struct check *k, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s != NULL && k->nproblems < CHECK_PROBLEMS_MAX)
		k->problems[k->nproblems++] = s;
	else
		free(s);
}

static int64_t
short_deadline(const struct check *k)
{
	int64_t d = k->cfg->global.connect_timeout > 0 ? k->cfg->global.connect_timeout :
		    k->t->target_deadline;

	return pga_mono_us() + (d > 0 ? d : 10 * PGA_USEC_PER_SEC);
}

#define IDENTITY_SQL \
	"SET search_path = pg_catalog; SET statement_timeout = %lld; SET lock_timeout = %lld;" \
	" SET DateStyle = ISO; SET TimeZone = UTC; SET standard_conforming_strings = on;" \
	" SELECT current_setting('server_version'), current_setting('server_version_num')::int," \
	" (SELECT system_identifier FROM pg_control_system())::text, current_user::text," \
	" (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)," \
	" pg_has_role('pg_monitor', 'USAGE'), pg_has_role('pg_read_all_stats', 'USAGE')," \
	" current_database(), e.extversion, quote_ident(n.nspname)," \
	" CASE WHEN pg_has_role('pg_read_all_settings', 'USAGE')" \
	"  THEN current_setting('data_directory') END" \
	" FROM (SELECT 1) AS one LEFT JOIN pg_extension e ON e.extname = 'pg_stat_statements'" \
	" LEFT JOIN pg_namespace n ON n.oid = e.extnamespace"

static int
identity(struct check *k, PGconn *conn, struct pga_err *err)
{
	char sql[2048];
	PGresult *r;
	int n, rc;

	snprintf(sql, sizeof(sql), IDENTITY_SQL,
		 (long long)(k->cfg->global.statement_timeout / 1000),
		 (long long)(k->cfg->global.lock_timeout / 1000));
	rc = cpg_exec(conn, sql, k->deadline, &r, 1, &n, err);
	if (rc < 0)
		return rc;
	strlcpy(k->version, PQgetvalue(r, 0, 0), sizeof(k->version));
	k->version_num = atoi(PQgetvalue(r, 0, 1));
	strlcpy(k->sysid, PQgetvalue(r, 0, 2), sizeof(k->sysid));
	strlcpy(k->user, PQgetvalue(r, 0, 3), sizeof(k->user));
	k->superuser = strcmp(PQgetvalue(r, 0, 4), "t") == 0;
	k->monitor = strcmp(PQgetvalue(r, 0, 5), "t") == 0;
	k->all_stats = strcmp(PQgetvalue(r, 0, 6), "t") == 0;
	strlcpy(k->database, PQgetvalue(r, 0, 7), sizeof(k->database));
	if (!PQgetisnull(r, 0, 8)) {
		strlcpy(k->pgss_version, PQgetvalue(r, 0, 8), sizeof(k->pgss_version));
		strlcpy(k->pgss_schema, PQgetvalue(r, 0, 9), sizeof(k->pgss_schema));
		strlcpy(k->pgss_db, k->database, sizeof(k->pgss_db));
	}
	strlcpy(k->datadir, k->t->data_directory ? k->t->data_directory : PQgetvalue(r, 0, 10),
		sizeof(k->datadir));
	PQclear(r);
	return 0;
}

static int
discard(void *ctx, const char *buf, size_t len, struct pga_err *err)
{
	(void)buf;
	(void)len;
	(void)err;
	(*(uint64_t *)ctx)++;
	return 0;
}

static void
report_metric(struct check *k, const struct metric_def *m, const char *state,
	      uint64_t rows, const char *msg)
{
	if (k->json != NULL) {
		jsonw_obj_open(k->json);
		jsonw_key(k->json, "metric");
		jsonw_str(k->json, m->name);
		jsonw_key(k->json, "state");
		jsonw_str(k->json, state);
		jsonw_key(k->json, "rows");
		jsonw_u64(k->json, rows);
		jsonw_key(k->json, "error");
		jsonw_str(k->json, msg);
		jsonw_obj_close(k->json);
	} else if (msg != NULL || strcmp(state, "ok") != 0) {
		printf("    %-28s %s%s%s\n", m->name, state, msg ? ": " : "", msg ? msg : "");
	}
}

/* Run one metric as a cycle would; a lost connection ends the check (< 0). */
/* The values a cycle gives the catalog's placeholders. */
static void
check_vars(const struct check *k, struct catalog_vars *v)
{
	const struct pga_global *g = &k->cfg->global;

	memset(v, 0, sizeof(*v));
	v->pgss = k->pgss_schema;
	v->limit = k->t->query_stats_limit;
	v->functions_limit = g->functions_limit;
	v->sessions_limit = g->sessions_limit;
	v->exact_limit = g->bloat_exact_max_size > 0 ? g->bloat_exact_limit : 0;
	v->exact_max_size = g->bloat_exact_max_size > 0 ? (long long)g->bloat_exact_max_size : 1;
	v->where = "true";
}

/* Every metric this server has, wherever a cycle would run it. */
static bool
want_all(const struct metric_def *m, void *ctx)
{
	const struct check *k = ctx;

	return m->source == METRIC_SQL && (m->ext != NULL || (m->flags & METRIC_NEEDS_PGSS) ||
					   catalog_sql_for(m, k->version_num) != NULL);
}

/* What a cycle's snapshot query learns: the extensions, the conditions. */
static int
read_facts(struct check *k, PGconn *conn, struct pga_err *err)
{
	struct catalog_vars v;
	PGresult *r = NULL;
	char *sql = malloc(CFACTS_SQL_CAP + 16);
	int n = 0, rc;

	if (sql == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	check_vars(k, &v);
	memcpy(sql, "SELECT 1", 9);
	v.datid = "(SELECT oid FROM pg_database WHERE datname = current_database())";
	rc = cfacts_sql(&k->facts, true, want_all, k, &v, sql + 8, CFACTS_SQL_CAP, err);
	if (rc == 0)
		rc = cpg_exec(conn, sql, k->deadline, &r, 1, &n, err);
	if (rc == 0 && PQntuples(r) == 1)
		cfacts_parse(&k->facts, true, r, 0, 1);
	if (n > 0)
		PQclear(r);
	free(sql);
	return rc;
}

static int
try_metric(struct check *k, PGconn *conn, const struct metric_def *m, bool *sp,
	   struct pga_err *err)
{
	bool pgss = m->flags & METRIC_NEEDS_PGSS;
	struct catalog_vars v;
	int version = pgss ? catalog_pgss_version(k->pgss_version) : k->version_num;
	enum cfacts_why why;
	const char *sql;
	char buf[16384], reason[512];
	uint64_t rows = 0, bytes;
	size_t hl;
	int rc, n;

	check_vars(k, &v);
	if ((m->ext != NULL || m->when != NULL) &&
	    (m->ext != NULL || catalog_sql_for(m, version) != NULL)) {
		/* not a problem: a cycle skips it the same way */
		why = cfacts_skip(&k->facts, m, &version, &v.ext);
		if (why != CFACTS_RUN) {
			cfacts_why(&k->facts, m, why, k->database, reason, sizeof(reason));
			report_metric(k, m, "off", 0, reason);
			return 0;
		}
	}
	sql = catalog_sql_for(m, version);
	if (sql == NULL) {
		k->metrics_absent++;
		report_metric(k, m, "absent", 0, pgss ? "not in this pg_stat_statements version" :
			      "not in this PostgreSQL version");
		return 0;
	}
	hl = (size_t)snprintf(buf, sizeof(buf), "%sSAVEPOINT pga; COPY (",
			      *sp ? "RELEASE SAVEPOINT pga; " : "");
	rc = catalog_expand(sql, &v, buf + hl, sizeof(buf) - hl - 32, NULL, err);
	if (rc < 0)
		return rc;
	strlcat(buf, ") TO STDOUT (FORMAT csv)", sizeof(buf));
	rc = cpg_copy(conn, buf, k->deadline, discard, &rows, &bytes, err);
	*sp = true;
	if (rc == PGA_EDB) {
		k->metrics_failed++;
		report_metric(k, m, "error", 0, err->msg);
		problem(k, "metric '%s': %s", m->name, err->msg);
		return cpg_exec(conn, "ROLLBACK TO SAVEPOINT pga", k->deadline, NULL, 0, &n, err);
	}
	if (rc == 0) {
		k->metrics_ok++;
		report_metric(k, m, "ok", rows, NULL);
	}
	return rc;
}

static int
write_nothing(void *ctx, const char *buf, size_t len, struct pga_err *err)
{
	(void)ctx;
	(void)buf;
	(void)len;
	(void)err;
	return 0;
}

static void
try_local(struct check *k, const struct metric_def *m, bool local, const char *datadir)
{
	struct pga_err err = {0};
	int rc;

	if (m->source == METRIC_STATUS) {	/* pga's own: nothing to read */
		k->metrics_ok++;
		report_metric(k, m, "ok", 0, NULL);
		return;
	}
	if (m->source == METRIC_HOST && !(local && k->t->os_stats)) {
		report_metric(k, m, "off", 0, local ? "os-stats is off" : "target is not local");
		return;
	}
	if (m->source == METRIC_CSVLOG && k->t->csvlog == NULL) {
		report_metric(k, m, "off", 0, "no csvlog configured");
		return;
	}
	if (m->source == METRIC_HOST) {
		rc = host_metric(m->name, datadir, write_nothing, NULL, &err);
	} else {
		int fd = open(k->t->csvlog, O_RDONLY | O_CLOEXEC);

		rc = fd < 0 ? pga_fail(&err, PGA_EIO, "could not open csvlog '%s': %m",
				       k->t->csvlog) : 0;
		if (fd >= 0)
			close(fd);
	}
	if (rc < 0) {
		k->metrics_failed++;
		report_metric(k, m, "error", 0, err.msg);
		problem(k, "metric '%s': %s", m->name, err.msg);
	} else {
		k->metrics_ok++;
		report_metric(k, m, "ok", 0, NULL);
	}
}

/* A custom metric's failure: reported, a problem, the savepoint restored if need be. */
static int
custom_failed(struct check *k, PGconn *conn, const struct metric_def *m, bool rollback,
	      struct pga_err *err)
{
	int n;

	k->metrics_failed++;
	report_metric(k, m, "error", 0, err->msg);
	problem(k, "metric '%s': %s", m->name, err->msg);
	return rollback ? cpg_exec(conn, "ROLLBACK TO SAVEPOINT pga", k->deadline, NULL, 0, &n,
				   err) : 0;
}

/*
 * A [metric:NAME] once, as a cycle runs it: described by the server, then
 * COPY behind the savepoint.  A database metric runs in the connection's
 * database only (the cluster session's, as a cycle's first): the others
 * may differ, a cycle will say so in its log and status.
 */
static int
try_custom(struct check *k, PGconn *conn, const struct pga_metric *pm, bool *sp,
	   struct pga_err *err)
{
	struct custom_def d;
	char *pre = NULL, *sql = NULL, why[128];
	uint64_t rows = 0, bytes;
	int n, rc;

	if (!pm->enabled || !custom_version_ok(pm, k->version_num)) {
		struct metric_def off = {.name = pm->name};

		snprintf(why, sizeof(why), pm->enabled ? "not for server_version_num %d" :
			 "enabled = off", k->version_num);
		report_metric(k, &off, "off", 0, why);
		return 0;
	}
	rc = cpg_exec(conn, *sp ? "RELEASE SAVEPOINT pga; SAVEPOINT pga" : "SAVEPOINT pga",
		      k->deadline, NULL, 0, &n, err);
	if (rc < 0)
		return rc;
	*sp = true;
	rc = custom_describe(conn, k->cfg, pm, k->deadline, &d, err);
	if (rc == PGA_EDB || rc == PGA_EINVAL) {
		rc = custom_failed(k, conn, &d.def, rc == PGA_EDB, err);
		custom_def_release(&d);
		return rc;
	}
	pre = rc == 0 ? custom_prefix(k->cfg, pm) : NULL;
	if (rc == 0 && pre == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	if (rc == 0 && CUSTOM_PREFIX_APART(k->version_num)) {
		rc = cpg_exec(conn, pre, k->deadline, NULL, 0, &n, err);
		pre[0] = '\0';
	}
	if (rc == 0 && asprintf(&sql, "%s" CUSTOM_COPY_HEAD "%s" CUSTOM_COPY_TAIL, pre,
				pm->sql) < 0) {
		sql = NULL;
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	if (rc == 0)
		rc = cpg_copy(conn, sql, k->deadline, discard, &rows, &bytes, err);
	if (rc == PGA_EDB) {
		rc = custom_failed(k, conn, &d.def, true, err);
	} else if (rc == 0) {
		k->metrics_ok++;
		report_metric(k, &d.def, "ok", rows, NULL);
	}
	free(pre);
	free(sql);
	custom_def_release(&d);
	return rc;
}

/* Every metric: cluster and this database's in one snapshot, like a cycle. */
static int
try_metrics(struct check *k, PGconn *conn, PGconn *pgss_conn, bool local,
	    const char *datadir, struct pga_err *err)
{
	const struct metric_def *all;
	bool sp = false, sp2 = false;
	size_t n;
	int rc, dummy;

	all = catalog_all(&n);
	rc = cpg_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", k->deadline,
		      NULL, 0, &dummy, err);
	if (rc == 0)
		rc = read_facts(k, conn, err);
	if (rc == 0 && pgss_conn != NULL && pgss_conn != conn)
		rc = cpg_exec(pgss_conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
			      k->deadline, NULL, 0, &dummy, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct metric_def *m = &all[i];

		if (m->source != METRIC_SQL)
			try_local(k, m, local, datadir);
		else if (!(m->flags & METRIC_NEEDS_PGSS))
			rc = try_metric(k, conn, m, &sp, err);
		else if (pgss_conn != NULL)
			rc = try_metric(k, pgss_conn, m, pgss_conn == conn ? &sp : &sp2, err);
		else
			report_metric(k, m, "absent", 0, "pg_stat_statements is not installed");
	}
	for (size_t i = 0; rc == 0 && i < k->cfg->nmetrics; i++)
		rc = try_custom(k, conn, &k->cfg->metrics[i], &sp, err);
	return rc;
}

/* Reach one more database; keep it if it has pg_stat_statements. */
static void
try_database(struct check *k, const char *db, PGconn **pgss_conn)
{
	struct pga_err err = {0};
	PGresult *e = NULL;
	PGconn *c = NULL;
	int m = 0;

	k->ndbs++;
	if (strcmp(db, k->database) == 0) {
		k->dbs_ok++;
		return;
	}
	if (cpg_connect(&c, k->t->conninfo, db, short_deadline(k), &err) < 0) {
		problem(k, "%s", err.msg);
		return;
	}
	k->dbs_ok++;
	if (*pgss_conn == NULL &&
	    cpg_exec(c, "SELECT e.extversion, quote_ident(n.nspname) FROM pg_extension e"
		     " JOIN pg_namespace n ON n.oid = e.extnamespace"
		     " WHERE e.extname = 'pg_stat_statements'", k->deadline, &e, 1, &m, &err) == 0 &&
	    PQntuples(e) == 1) {
		strlcpy(k->pgss_version, PQgetvalue(e, 0, 0), sizeof(k->pgss_version));
		strlcpy(k->pgss_schema, PQgetvalue(e, 0, 1), sizeof(k->pgss_schema));
		strlcpy(k->pgss_db, db, sizeof(k->pgss_db));
		*pgss_conn = c;
		c = NULL;
	}
	if (m > 0)
		PQclear(e);
	PQfinish(c);
}

/* Every database the collector would visit. */
static void
try_databases(struct check *k, PGconn *conn, bool all_dbs, PGconn **pgss_conn)
{
	struct pga_err err = {0};
	PGresult *r = NULL;
	int n = 0;

	if (all_dbs) {
		if (cpg_exec(conn, "SELECT datname FROM pg_database WHERE datallowconn"
			     " AND NOT datistemplate AND has_database_privilege(datname, 'CONNECT')"
			     " ORDER BY datname", k->deadline, &r, 1, &n, &err) < 0) {
			problem(k, "could not list the databases: %s", err.msg);
			return;
		}
		for (int i = 0; i < PQntuples(r); i++)
			try_database(k, PQgetvalue(r, i, 0), pgss_conn);
		PQclear(r);
	} else if (k->t->databases != NULL) {
		char *copy = strdup(k->t->databases), *save = NULL;

		for (char *d = copy ? strtok_r(copy, ",", &save) : NULL; d;
		     d = strtok_r(NULL, ",", &save)) {
			while (*d == ' ')
				d++;
			d[strcspn(d, " ")] = '\0';
			try_database(k, d, pgss_conn);
		}
		free(copy);
	} else {
		k->ndbs = k->dbs_ok = 1;
	}
}

static void
print_identity(const struct check *k)
{
	printf("  server:     PostgreSQL %s (%d), system identifier %s\n", k->version,
	       k->version_num, k->sysid);
	printf("  connect:    %" PRId64 " ms as '%s' (%s)\n", k->connect_ms, k->user,
	       k->superuser ? "superuser" : k->monitor ? "pg_monitor" :
	       k->all_stats ? "pg_read_all_stats only" : "no monitoring role");
	printf("  databases:  %u of %u reachable\n", k->dbs_ok, k->ndbs);
	if (k->pgss_version[0])
		printf("  pg_stat_statements: %s in schema %s of database '%s'\n",
		       k->pgss_version, k->pgss_schema, k->pgss_db);
	else
		printf("  pg_stat_statements: not installed\n");
}

static void
print_result(const struct check *k, bool reached)
{
	if (reached)
		printf("  metrics:    %u ok, %u failing, %u not on this server\n",
		       k->metrics_ok, k->metrics_failed, k->metrics_absent);
	for (unsigned i = 0; i < k->nproblems; i++)
		printf("  problem:    %s\n", k->problems[i]);
	printf("  result:     %s\n", k->nproblems ? "PROBLEM" : "ok");
}

static void
json_head(struct check *k)
{
	jsonw_obj_open(k->json);
	jsonw_key(k->json, "target");
	jsonw_str(k->json, k->t->name);
	jsonw_key(k->json, "metrics");
	jsonw_arr_open(k->json);
}

static void
json_tail(const struct check *k, bool reached)
{
	struct jsonw *j = k->json;

	jsonw_arr_close(j);
	jsonw_key(j, "ok");
	jsonw_bool(j, k->nproblems == 0);
	jsonw_key(j, "server_version");
	reached ? jsonw_str(j, k->version) : jsonw_null(j);
	jsonw_key(j, "server_version_num");
	jsonw_i64(j, k->version_num);
	jsonw_key(j, "system_identifier");
	reached ? jsonw_str(j, k->sysid) : jsonw_null(j);
	jsonw_key(j, "user");
	reached ? jsonw_str(j, k->user) : jsonw_null(j);
	jsonw_key(j, "superuser");
	jsonw_bool(j, k->superuser);
	jsonw_key(j, "pg_monitor");
	jsonw_bool(j, k->monitor);
	jsonw_key(j, "connect_seconds");
	jsonw_seconds(j, k->connect_ms * 1000);
	jsonw_key(j, "databases");
	jsonw_u64(j, k->ndbs);
	jsonw_key(j, "databases_reachable");
	jsonw_u64(j, k->dbs_ok);
	jsonw_key(j, "pg_stat_statements");
	k->pgss_version[0] ? jsonw_str(j, k->pgss_version) : jsonw_null(j);
	jsonw_key(j, "problems");
	jsonw_arr_open(j);
	for (unsigned i = 0; i < k->nproblems; i++)
		jsonw_str(j, k->problems[i]);
	jsonw_arr_close(j);
	jsonw_obj_close(j);
}

/* The conninfo's dbname is '*': the cluster session goes to postgres. */
static bool
wants_all(const struct pga_target *t, const char **cluster_db)
{
	PQconninfoOption *o = PQconninfoParse(t->conninfo, NULL);
	bool star = false;

	for (PQconninfoOption *p = o; p && p->keyword; p++)
		if (p->val && strcmp(p->keyword, "dbname") == 0)
			star = strcmp(p->val, "*") == 0;
	PQconninfoFree(o);
	*cluster_db = star ? "postgres" : NULL;
	return star || (t->databases && strcmp(t->databases, "*") == 0);
}

static bool
target_local(const struct pga_target *t)
{
	PQconninfoOption *o = PQconninfoParse(t->conninfo, NULL);
	const char *host = NULL, *addr = NULL;
	bool local;

	for (PQconninfoOption *p = o; p && p->keyword; p++) {
		if (p->val && strcmp(p->keyword, "host") == 0)
			host = p->val;
		if (p->val && strcmp(p->keyword, "hostaddr") == 0)
			addr = p->val;
	}
	local = host_is_local(host, addr);
	PQconninfoFree(o);
	return local;
}

static void
check_one(struct check *k)
{
	struct pga_err err = {0};
	const char *cluster_db;
	bool all_dbs = wants_all(k->t, &cluster_db), reached = false;
	PGconn *conn = NULL, *pgss_conn = NULL;
	int64_t t0 = pga_mono_us();

	k->deadline = short_deadline(k);
	if (k->json)
		json_head(k);
	else
		printf("target '%s'\n", k->t->name);
	if (cpg_connect(&conn, k->t->conninfo, cluster_db, k->deadline, &err) < 0 ||
	    identity(k, conn, &err) < 0) {
		problem(k, "%s", err.msg);
		goto out;
	}
	reached = true;
	k->connect_ms = (pga_mono_us() - t0) / 1000;
	k->deadline = pga_mono_us() + k->t->target_deadline;
	if (!k->superuser && !k->monitor)
		problem(k, "role '%s' is neither superuser nor a member of pg_monitor: other"
			" sessions' statements, activity and replication state are hidden", k->user);
	try_databases(k, conn, all_dbs, &pgss_conn);
	if (k->pgss_version[0] == '\0')
		problem(k, "pg_stat_statements is not installed in any collected database:"
			" CREATE EXTENSION pg_stat_statements (and preload it)");
	if (!k->json)
		print_identity(k);
	if (try_metrics(k, conn, pgss_conn ? pgss_conn : k->pgss_version[0] ? conn : NULL,
			target_local(k->t), k->datadir, &err) < 0)
		problem(k, "%s", err.msg);
out:
	if (k->json)
		json_tail(k, reached);
	else
		print_result(k, reached);
	PQfinish(pgss_conn);
	PQfinish(conn);
}

int
check_targets(struct pga_ctx *ctx, const char *const *only, size_t nonly,
	      struct jsonw *json, int *failures, struct pga_err *err)
{
	const struct pga_config *cfg = ctx->cfg;
	int rc = collect_validate(cfg, only, nonly, err);

	*failures = 0;
	if (rc < 0)
		return rc;
	if (json != NULL) {
		jsonw_key(json, "targets");
		jsonw_arr_open(json);
	}
	for (size_t i = 0; i < cfg->ntargets; i++) {
		const struct pga_target *t = &cfg->targets[i];
		struct check k = {.cfg = cfg, .t = t, .json = json};
		bool pick = only == NULL ? t->enabled : false;

		for (size_t j = 0; j < nonly; j++)
			pick |= strcmp(only[j], t->name) == 0;
		if (!pick)
			continue;
		check_one(&k);
		if (k.nproblems > 0)
			(*failures)++;
		for (unsigned p = 0; p < k.nproblems; p++)
			free(k.problems[p]);
	}
	if (json != NULL)
		jsonw_arr_close(json);
	return 0;
}
