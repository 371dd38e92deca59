/*
 * dest_s3.c - s3://bucket/prefix, and the S3 protocol core that GCS reuses
 *
 * Every PUT carries x-amz-content-sha256 (the real payload hash, signed),
 * Content-MD5 (the store checks the body), x-amz-meta-sha256 (so a later
 * HEAD can compare) and If-None-Match: * (create-only).  For stores that
 * ignore the condition (s3rver) create-only = check (the default when an
 * endpoint is set) looks first, in a shared listing of the segment's day
 * (below): an existing object is compared instead of overwritten.  412
 * and 409 answers are compared the same way, and after a timeout the next
 * attempt either gets 412 or harmlessly rewrites the segment's own bytes.  Objects are single PUTs (up to
 * 5 GiB, far above segment-max-size).
 *
 * Credentials: access-key-id/secret-access-key from the section, else
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, else the
 * credentials file (credentials-file, AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials; mode 0600 or it is refused) and its profile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>
#include <curl/curl.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/units.h"
#include "ship/base64.h"
#include "ship/dest_int.h"
#include "ship/s3_int.h"
#include "ship/sigv4.h"
#include "ship/store_util.h"

#define S3_MAX_HEADERS 16
#define S3_HDR_ARENA 16384
#define S3_LIST_MAX (16u << 20)
#define S3_MAX_OBJECT (5ull << 30)
#define S3_CREDFILE_MAX 65536

static const struct s3_flavour s3_flavour = {
	"s3", "AWS4-HMAC-SHA256", "s3", "x-amz-", "If-None-Match", "*",
};

static struct s3_dest *
to_s3(struct dest *d)
{
	return (struct s3_dest *)d;
}

/* ---- credentials ---- */

static void
trim(char *s)
{
	size_t n = strlen(s);
	char *p = s;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	memmove(s, p, strlen(p) + 1);
}

/* Pick profile's keys out of an AWS credentials file's text (modified). */
static void
parse_credentials(char *text, const char *profile, struct s3_creds *c)
{
	bool in = false;
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *eq;

		trim(l);
		if (l[0] == '#' || l[0] == ';' || l[0] == '\0')
			continue;
		if (l[0] == '[') {
			char *end = strchr(l, ']');
			char *name = l + 1;

			if (end != NULL)
				*end = '\0';
			if (strncmp(name, "profile ", 8) == 0)
				name += 8;
			trim(name);
			in = strcmp(name, profile) == 0;
			continue;
		}
		eq = strchr(l, '=');
		if (!in || eq == NULL)
			continue;
		*eq = '\0';
		trim(l);
		trim(eq + 1);
		if (strcmp(l, "aws_access_key_id") == 0)
			strlcpy(c->id, eq + 1, sizeof(c->id));
		else if (strcmp(l, "aws_secret_access_key") == 0)
			strlcpy(c->secret, eq + 1, sizeof(c->secret));
		else if (strcmp(l, "aws_session_token") == 0)
			strlcpy(c->token, eq + 1, sizeof(c->token));
	}
}

static int
creds_from_file(const struct pga_dest *cfg, struct s3_creds *c, struct pga_err *err)
{
	const char *path = cfg->credentials_file;
	const char *profile = cfg->profile ? cfg->profile : "default";
	char dflt[4096], *text;
	int rc;

	if (path == NULL)
		path = getenv("AWS_SHARED_CREDENTIALS_FILE");
	if (path == NULL && getenv("HOME") != NULL) {
		snprintf(dflt, sizeof(dflt), "%s/.aws/credentials", getenv("HOME"));
		if (access(dflt, F_OK) == 0)
			path = dflt;
	}
	if (path == NULL)
		return pga_fail(err, PGA_EINVAL,
				"no credentials: set access-key-id and secret-access-key, "
				"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or credentials-file");
	rc = dest_check_secret_file(path, "credentials file", err);
	if (rc < 0)
		return rc;
	text = malloc(S3_CREDFILE_MAX);
	if (text == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = pga_read_small_file(path, text, S3_CREDFILE_MAX, NULL, err);
	if (rc == 0)
		parse_credentials(text, profile, c);
	explicit_bzero(text, S3_CREDFILE_MAX);
	free(text);
	if (rc == 0 && (c->id[0] == '\0' || c->secret[0] == '\0'))
		rc = pga_fail(err, PGA_EINVAL,
			      "credentials file '%s' has no aws_access_key_id and "
			      "aws_secret_access_key in profile '%s'", path, profile);
	return rc;
}

int
s3_resolve_creds(const struct pga_dest *cfg, struct s3_creds *c, struct pga_err *err)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");

	memset(c, 0, sizeof(*c));
	if (cfg->access_key_id != NULL || cfg->secret_access_key != NULL) {
		if (cfg->access_key_id == NULL || cfg->secret_access_key == NULL)
			return pga_fail(err, PGA_EINVAL,
					"access-key-id and secret-access-key go together");
		strlcpy(c->id, cfg->access_key_id, sizeof(c->id));
		strlcpy(c->secret, cfg->secret_access_key, sizeof(c->secret));
		if (cfg->session_token != NULL)
			strlcpy(c->token, cfg->session_token, sizeof(c->token));
		return 0;
	}
	if (id != NULL && secret != NULL && *id && *secret) {
		const char *tok = getenv("AWS_SESSION_TOKEN");

		strlcpy(c->id, id, sizeof(c->id));
		strlcpy(c->secret, secret, sizeof(c->secret));
		if (tok != NULL)
			strlcpy(c->token, tok, sizeof(c->token));
		return 0;
	}
	return creds_from_file(cfg, c, err);
}

int
s3_check_bucket(const char *b, struct pga_err *err)
{
	size_t n = strlen(b);

	if (n < 3 || n > 222)
		return pga_fail(err, PGA_EINVAL, "bucket name '%s' must have 3 to 222 characters", b);
	for (const char *c = b; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' ||
		      *c == '-' || *c == '_'))
			return pga_fail(err, PGA_EINVAL,
					"bucket name '%s' may only hold a-z, 0-9, '.', '-' and '_'", b);
	return 0;
}

/* ---- set-up ---- */

static int
parse_endpoint(struct s3_dest *d, const char *endpoint, bool path_style, struct pga_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int rc = 0;

	if (u == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = pga_fail(err, PGA_EINVAL, "endpoint '%s' is not a valid url", endpoint);
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	if (path != NULL && strcmp(path, "/") == 0)
		path[0] = '\0';
	if (path_style) {
		snprintf(d->host, sizeof(d->host), "%s%s%s", host, port ? ":" : "", port ? port : "");
		snprintf(d->base_path, sizeof(d->base_path), "%s/%s", path ? path : "", d->bucket);
	} else {
		snprintf(d->host, sizeof(d->host), "%s.%s%s%s", d->bucket, host, port ? ":" : "",
			 port ? port : "");
		snprintf(d->base_path, sizeof(d->base_path), "%s", path ? path : "");
	}
	snprintf(d->origin, sizeof(d->origin), "%s://%s", scheme, d->host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

/*
 * ---- create-only = check: look before each PUT ----
 *
 * Instead of a HEAD per segment, the slots of a destination share one
 * listing of the segment's day prefix (collector/yyyy/mm/dd/), at most
 * SEEN_TTL_US old; a name in it gets a HEAD and is compared, a name not in
 * it is PUT.  The window in which another writer could create the same
 * name unseen is the listing's age; stores that honour If-None-Match close
 * it anyway.  Re-sends after our own failed attempts need no check: their
 * object has the segment's own content.
 */
#define SEEN_TTL_US (60 * PGA_USEC_PER_SEC)
#define SEEN_MAX 200000
#define SEEN_SLOTS 64

struct s3_seen_cache {
	char dest[PGA_NAME_MAX + 1];
	pthread_mutex_t mu;
	char dir[SEG_NAME_MAX];		/* day prefix listed; "" when none */
	int64_t listed_us;		/* monotonic */
	char **names;			/* sorted, relative to the destination's prefix */
	size_t n, cap;
	bool too_many;			/* more than SEEN_MAX: HEAD instead */
};

static pthread_mutex_t seen_slots_mu = PTHREAD_MUTEX_INITIALIZER;
static struct s3_seen_cache seen_slots[SEEN_SLOTS];

static struct s3_seen_cache *
seen_cache_for(const char *dest)
{
	struct s3_seen_cache *c = NULL;

	pthread_mutex_lock(&seen_slots_mu);
	for (size_t i = 0; i < SEEN_SLOTS && c == NULL; i++) {
		if (seen_slots[i].dest[0] == '\0') {
			strlcpy(seen_slots[i].dest, dest, sizeof(seen_slots[i].dest));
			pthread_mutex_init(&seen_slots[i].mu, NULL);
			c = &seen_slots[i];
		} else if (strcmp(seen_slots[i].dest, dest) == 0) {
			c = &seen_slots[i];
		}
	}
	pthread_mutex_unlock(&seen_slots_mu);
	return c;
}

static void
seen_clear(struct s3_seen_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
	c->names = NULL;
	c->n = c->cap = 0;
	c->dir[0] = '\0';
	c->too_many = false;
}

static int
seen_add(void *ctx, const char *name, uint64_t size, struct pga_err *err)
{
	struct s3_seen_cache *c = ctx;

	(void)size;
	if (c->n == SEEN_MAX) {
		c->too_many = true;
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		char **v = reallocarray(c->names, cap, sizeof(*v));

		if (v == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		c->names = v;
		c->cap = cap;
	}
	c->names[c->n] = strdup(name);
	if (c->names[c->n] == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	c->n++;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1: name may exist (listed, or the listing is too large to tell), 0: absent. */
static int
seen_lookup(struct s3_dest *d, const char *name, struct pga_err *err)
{
	struct s3_seen_cache *c = d->seen;
	const char *slash = strrchr(name, '/');
	char dir[SEG_NAME_MAX];
	int rc = 0;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - name + 1) : 0, name);
	pthread_mutex_lock(&c->mu);
	if (c->dir[0] == '\0' || strcmp(c->dir, dir) != 0 ||
	    pga_mono_us() - c->listed_us > SEEN_TTL_US) {
		seen_clear(c);
		rc = s3_list(&d->base, dir, seen_add, c, err);
		if (rc == 0) {
			if (c->n > 1)
				qsort(c->names, c->n, sizeof(*c->names), cmp_str);
			strlcpy(c->dir, dir, sizeof(c->dir));
			c->listed_us = pga_mono_us();
			log_debug("%s: %zu objects under '%s'", d->what, c->n, dir);
		} else {
			seen_clear(c);
		}
	}
	if (rc == 0)
		rc = c->too_many || (c->n > 0 &&
				     bsearch(&name, c->names, c->n, sizeof(*c->names), cmp_str) != NULL);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int
s3_setup(struct s3_dest *d, const struct pga_dest *cfg, const struct s3_flavour *fl,
	 const char *default_endpoint, bool path_style, struct pga_err *err)
{
	struct http_config hc = {0};
	int rc;

	d->fl = fl;
	dest_what(cfg, d->what, sizeof(d->what));
	rc = dest_url_split(cfg->url, d->bucket, sizeof(d->bucket), d->prefix,
			    sizeof(d->prefix), err);
	if (rc < 0)
		return rc;
	if (cfg->storage_class != NULL)
		strlcpy(d->storage_class, cfg->storage_class, sizeof(d->storage_class));
	/* dotted bucket names do not match a wildcard certificate: use paths */
	if (cfg->endpoint == NULL && strchr(d->bucket, '.') != NULL)
		path_style = true;
	rc = parse_endpoint(d, cfg->endpoint ? cfg->endpoint : default_endpoint, path_style, err);
	if (rc < 0)
		return rc;
	d->check_first = cfg->create_only == PGA_CREATE_CHECK ||
			 (cfg->create_only == PGA_CREATE_AUTO && cfg->endpoint != NULL);
	if (d->check_first) {
		d->seen = seen_cache_for(cfg->name);
		if (d->seen == NULL)
			return pga_fail(err, PGA_EINVAL, "too many object store destinations");
	}
	hc.ca_file = cfg->ca_file;
	hc.timeout_us = cfg->timeout;
	hc.what = d->what;
	return http_client_new(&d->http, &hc, err);
}

void
s3_teardown(struct s3_dest *d)
{
	http_client_free(d->http);
	explicit_bzero(&d->creds, sizeof(d->creds));
}

/* ---- requests ---- */

struct s3_hdrs {
	const char *lines[S3_MAX_HEADERS];
	size_t n;
	struct sign_header sig[S3_MAX_HEADERS];
	size_t nsig;
	char arena[S3_HDR_ARENA];
	size_t used;
	bool overflow;
};

/* Add "name: value" on the wire and, when signed, to the signature. */
static void
hdr_add(struct s3_hdrs *h, const char *name, const char *value, bool signed_hdr)
{
	size_t need = strlen(name) + strlen(value) + 3;
	char *line = h->arena + h->used;

	if (h->n == S3_MAX_HEADERS || h->used + need > sizeof(h->arena)) {
		h->overflow = true;
		return;
	}
	snprintf(line, need, "%s: %s", name, value);
	h->used += need;
	h->lines[h->n++] = line;
	if (signed_hdr) {
		h->sig[h->nsig].name = name;
		h->sig[h->nsig++].value = line + strlen(name) + 2;
	}
}

static void
hdr_addp(struct s3_hdrs *h, const char *prefix, const char *name, const char *value)
{
	char full[64];

	snprintf(full, sizeof(full), "%s%s", prefix, name);
	/* the name must outlive this call: keep it in the arena too */
	if (h->used + strlen(full) + 1 > sizeof(h->arena)) {
		h->overflow = true;
		return;
	}
	strcpy(h->arena + h->used, full);
	h->used += strlen(full) + 1;
	hdr_add(h, h->arena + h->used - strlen(full) - 1, value, true);
}

static int
object_path(struct s3_dest *d, const char *name, char *path, size_t cap, struct pga_err *err)
{
	if (name == NULL)
		return pga_path(path, cap, err, "%s/", d->base_path);
	return store_object_path(d->base_path, d->prefix, name, d->what, path, cap, err);
}

/* Sign (or attach the bearer token) and send; rq carries body and sink. */
static int
s3_send(struct s3_dest *d, struct s3_hdrs *h, const char *path, const char *query,
	const char *payload_hash, struct http_request *rq, struct http_response *rs,
	struct pga_err *err)
{
	char url[8192], date[32], auth[S3_BEARER_MAX + 16], bearer[S3_BEARER_MAX];
	int64_t now = pga_now_us();
	int rc;

	sigv4_amz_date(now, date, sizeof(date));
	hdr_add(h, "host", d->host, true);
	if (d->bearer != NULL) {
		rc = d->bearer(d, bearer, sizeof(bearer), err);
		if (rc < 0)
			return rc;
		snprintf(auth, sizeof(auth), "Bearer %s", bearer);
		explicit_bzero(bearer, sizeof(bearer));
	} else {
		struct sigv4_request sr = {rq->method, path, query, h->sig, 0, payload_hash, now, 0};
		struct sigv4_key key = {d->fl->algorithm, d->creds.id, d->creds.secret,
					d->region, d->fl->service};

		hdr_addp(h, d->fl->hp, "date", date);
		hdr_addp(h, d->fl->hp, "content-sha256", payload_hash);
		if (d->creds.token[0])
			hdr_addp(h, d->fl->hp, "security-token", d->creds.token);
		sr.nheaders = h->nsig;
		if (!h->overflow) {
			char sig[SIGV4_AUTH_MAX];

			rc = sigv4_sign(&sr, &key, NULL, 0, NULL, 0, sig, sizeof(sig), err);
			if (rc < 0)
				return rc;
			snprintf(auth, sizeof(auth), "%s", sig);
		}
	}
	hdr_add(h, "Authorization", auth, false);
	explicit_bzero(auth, sizeof(auth));
	if (h->overflow)
		return pga_fail(err, PGA_EINVAL, "%s: request headers too long", d->what);
	rc = pga_path(url, sizeof(url), err, "%s%s%s%s", d->origin, path,
		      query && *query ? "?" : "", query ? query : "");
	if (rc < 0)
		return rc;
	rq->url = url;
	rq->headers = h->lines;
	rq->nheaders = h->n;
	rq->rl = d->base.rl;
	rq->cancel = d->base.cancel;
	rq->cancel_ctx = d->base.cancel_ctx;
	rc = http_do(d->http, rq, rs, err);
	explicit_bzero(h->arena, sizeof(h->arena));
	if (rc == 0 && rs->status == 401 && d->bearer_reset != NULL)
		d->bearer_reset(d);
	return rc;
}

/* The server's refusal; a rejected bearer token is retryable (a new one is fetched). */
static int
s3_error(struct s3_dest *d, struct pga_err *err, const char *op, const char *name,
	 const struct http_response *rs)
{
	int rc = store_http_error(err, d->what, op, name, rs);

	if (rs->status == 401 && d->bearer != NULL)
		err->code = rc = PGA_ENET;
	return rc;
}

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/*
 * A HEAD answer has no body, so no error code: for a refusal ask again with
 * a one-byte GET, whose answer carries the server's code and message.
 */
static int
head_error(struct s3_dest *d, const char *name, const char *path,
	   struct http_response *rs, struct pga_err *err)
{
	struct s3_hdrs h = {0};
	struct http_request rq = {.method = "GET", .sink = NULL};
	long head_status = rs->status;
	int rc;

	if (head_status < 400 || head_status >= 500 || head_status == 408 || head_status == 429)
		return s3_error(d, err, "HEAD", name, rs);
	hdr_add(&h, "Range", "bytes=0-0", true);
	rc = s3_send(d, &h, path, NULL, EMPTY_SHA256, &rq, rs, err);
	if (rc < 0 || rs->status < 400)
		rs->status = head_status;
	return s3_error(d, err, "HEAD", name, rs);
}

/* HEAD name: 1 with seen filled, 0 absent. */
static int
head_seen(struct s3_dest *d, const char *name, struct store_seen *seen, struct pga_err *err)
{
	struct s3_hdrs h = {0};
	struct http_request rq = {.method = "HEAD"};
	struct http_response *rs = malloc(sizeof(*rs));
	char path[8192], v[256], hdr[64];
	int rc;

	if (rs == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	memset(seen, 0, sizeof(*seen));
	rc = object_path(d, name, path, sizeof(path), err);
	if (rc == 0)
		rc = s3_send(d, &h, path, NULL, EMPTY_SHA256, &rq, rs, err);
	if (rc < 0)
		goto out;
	if (rs->status == 404) {
		rc = 0;
		goto out;
	}
	if (rs->status != 200) {
		rc = head_error(d, name, path, rs, err);
		goto out;
	}
	if (http_header(rs, "content-length", v, sizeof(v)) != NULL)
		seen->obj.size = strtoull(v, NULL, 10);
	snprintf(hdr, sizeof(hdr), "%smeta-sha256", d->fl->hp);
	if (http_header(rs, hdr, v, sizeof(v)) != NULL && strlen(v) == 64 &&
	    pga_unhex(v, seen->obj.sha256, PGA_SHA256_LEN) == 0)
		seen->obj.have_sha256 = true;
	if (http_header(rs, "x-goog-hash", v, sizeof(v)) != NULL && strstr(v, "md5=") != NULL) {
		char *md5 = strstr(v, "md5=") + 4;

		md5[strcspn(md5, ", ")] = '\0';
		store_md5_from_b64(md5, seen);
	}
	if (!seen->have_md5 && http_header(rs, "etag", v, sizeof(v)) != NULL)
		store_md5_from_etag(v, seen);
	rc = 1;
out:
	free(rs);
	return rc;
}

int
s3_head(struct dest *dd, const char *name, struct dest_object *obj, struct pga_err *err)
{
	struct store_seen seen;
	int rc = head_seen(to_s3(dd), name, &seen, err);

	if (rc == 1)
		*obj = seen.obj;
	return rc;
}

static int
put_once(struct s3_dest *d, const struct dest_upload *up, int fd, bool create_only,
	 struct http_response *rs, struct pga_err *err)
{
	struct s3_hdrs h = {0};
	struct http_request rq = {.method = "PUT", .body_fd = fd, .body_from_fd = true,
				  .body_len = up->size};
	char path[8192], sha_hex[PGA_SHA256_HEX], md5_b64[32], hdr[64];
	int rc = object_path(d, up->name, path, sizeof(path), err);

	if (rc < 0)
		return rc;
	pga_hex(up->sha256, PGA_SHA256_LEN, sha_hex);
	base64_encode(up->md5, sizeof(up->md5), md5_b64, sizeof(md5_b64));
	hdr_add(&h, "Content-MD5", md5_b64, true);
	hdr_add(&h, "Content-Type", "application/octet-stream", true);
	if (create_only)
		hdr_add(&h, d->fl->create_hdr, d->fl->create_val, true);
	hdr_addp(&h, d->fl->hp, "meta-sha256", sha_hex);
	if (d->storage_class[0]) {
		snprintf(hdr, sizeof(hdr), "%sstorage-class", d->fl->hp);
		hdr_addp(&h, "", hdr, d->storage_class);
	}
	rc = s3_send(d, &h, path, NULL, sha_hex, &rq, rs, err);
	if (rc == 0 && rs->status >= 200 && rs->status < 300)
		return 0;
	if (rc == 0 && !(create_only && (rs->status == 412 || rs->status == 409)))
		rc = s3_error(d, err, "PUT", up->name, rs);
	return rc;
}

/* Compare a GET of the object with the start of the local file. */
struct prefix_cmp {
	int fd;
	uint64_t off;
	bool differs;
};

static int
prefix_sink(void *ctx, const void *buf, size_t len, struct pga_err *err)
{
	struct prefix_cmp *pc = ctx;
	char mine[16384];

	while (len > 0 && !pc->differs) {
		size_t n = len < sizeof(mine) ? len : sizeof(mine);
		ssize_t got = pread(pc->fd, mine, n, (off_t)pc->off);

		if (got < 0)
			return pga_fail(err, PGA_EIO, "could not read the segment: %m");
		if ((size_t)got != n || memcmp(mine, buf, n) != 0)
			pc->differs = true;
		pc->off += n;
		buf = (const char *)buf + n;
		len -= n;
	}
	return 0;
}

/*
 * Some stores (s3rver) keep what arrived of an upload whose client died.
 * Such an object is a proper prefix of the segment: never a valid segment
 * itself (a segment ends with its footer), so replacing it loses nothing.
 * 1: it is a torn copy, 0: it is something else.
 */
static int
is_torn_copy(struct s3_dest *d, const struct dest_upload *up, const struct store_seen *seen,
	     int fd, struct pga_err *err)
{
	struct prefix_cmp pc = {fd, 0, false};
	int rc;

	if (seen->obj.size >= up->size ||
	    (seen->obj.have_sha256 && memcmp(seen->obj.sha256, up->sha256, PGA_SHA256_LEN) != 0))
		return 0;
	rc = s3_get(&d->base, up->name, prefix_sink, &pc, err);
	if (rc < 0)
		return rc;
	return !pc.differs && pc.off == seen->obj.size;
}

/* The object is there: same content, a torn copy of ours to replace, or a conflict. */
static int
resolve_existing(struct s3_dest *d, const struct dest_upload *up, const struct store_seen *seen,
		 int fd, struct http_response *rs, struct pga_err *err)
{
	struct pga_err cerr = {0};
	int rc = store_compare(d->what, up->name, seen, up, &cerr);

	if (rc == 0) {
		log_debug("%s: '%s' already there with the same content", d->what, up->name);
		return 0;
	}
	rc = is_torn_copy(d, up, seen, fd, err);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		*err = cerr;
		return err->code;
	}
	log_warn("%s: '%s' holds %llu of the segment's %llu bytes (an interrupted upload the store "
		 "kept): replacing it", d->what, up->name, (unsigned long long)seen->obj.size,
		 (unsigned long long)up->size);
	return put_once(d, up, fd, false, rs, err);
}

int
s3_put(struct dest *dd, const struct dest_upload *up, struct pga_err *err)
{
	struct s3_dest *d = to_s3(dd);
	struct http_response *rs = NULL;
	struct store_seen seen;
	int fd = -1, rc = 0;

	if (up->size > S3_MAX_OBJECT)
		return pga_fail(err, PGA_EREMOTE, "%s: '%s' is larger than 5 GiB, the limit of one PUT",
				d->what, up->name);
	fd = open(up->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pga_fail(err, errno == ENOENT ? PGA_ENOTFOUND : PGA_EIO,
				"could not open '%s': %m", up->path);
	rs = malloc(sizeof(*rs));
	if (rs == NULL) {
		close(fd);
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	if (d->check_first) {
		rc = seen_lookup(d, up->name, err);
		if (rc == 1)
			rc = head_seen(d, up->name, &seen, err);
	}
	if (rc == 0) {
		rc = put_once(d, up, fd, true, rs, err);
		if (rc == 0 && (rs->status == 412 || rs->status == 409)) {
			rc = head_seen(d, up->name, &seen, err);
			if (rc == 0)
				rc = pga_fail(err, PGA_ENET, "%s: PUT '%s' was refused as a conflict but "
					      "the object is not there", d->what, up->name);
		}
	}
	if (rc == 1)
		rc = resolve_existing(d, up, &seen, fd, rs, err);
	close(fd);
	free(rs);
	return rc;
}

/* ---- list, get, check ---- */

struct list_state {
	struct s3_dest *d;
	dest_list_fn fn;
	void *ctx;
	char last[2048];
	bool truncated;
	size_t count;
};

static int
list_page_parse(struct list_state *ls, const char *xml, struct pga_err *err)
{
	size_t plen = strlen(ls->d->prefix);
	char key[2048], size[32], contents[4096], trunc[16];
	const char *p = xml;
	int rc = 0;

	ls->truncated = store_xml_tag(xml, "IsTruncated", trunc, sizeof(trunc)) != NULL &&
			strcmp(trunc, "true") == 0;
	while (rc == 0 && (p = store_xml_tag(p, "Contents", contents, sizeof(contents))) != NULL) {
		if (store_xml_tag(contents, "Key", key, sizeof(key)) == NULL ||
		    store_xml_tag(contents, "Size", size, sizeof(size)) == NULL)
			return pga_fail(err, PGA_EREMOTE, "%s: malformed listing", ls->d->what);
		strlcpy(ls->last, key, sizeof(ls->last));
		ls->count++;
		if (strncmp(key, ls->d->prefix, plen) != 0 ||
		    seg_name_parse(key + plen, NULL, 0, NULL, NULL) != 0)
			continue;
		rc = ls->fn(ls->ctx, key + plen, strtoull(size, NULL, 10), err);
	}
	return rc;
}

/* One page of ListObjects (v1: every S3 clone and GCS speak it) after marker. */
static int
list_page(struct list_state *ls, const char *key_prefix, const char *extra, struct pga_err *err)
{
	struct s3_dest *d = ls->d;
	struct s3_hdrs h = {0};
	struct store_buf body = {.max = S3_LIST_MAX};
	struct http_request rq = {.method = "GET", .sink = store_buf_sink, .sink_ctx = &body};
	struct http_response *rs = malloc(sizeof(*rs));
	char query[8192], ep[4096], em[4096], path[1024];
	int rc;

	if (rs == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = sigv4_uri_encode(key_prefix, 0, ep, sizeof(ep), err);
	if (rc == 0)
		rc = sigv4_uri_encode(ls->last, 0, em, sizeof(em), err);
	if (rc == 0)
		rc = pga_path(query, sizeof(query), err, "%s%s%sprefix=%s", ls->last[0] ? "marker=" : "",
			      ls->last[0] ? em : "", ls->last[0] ? "&" : "", ep);
	if (rc == 0 && extra != NULL)
		rc = pga_path(query + strlen(query), sizeof(query) - strlen(query), err, "&%s", extra);
	if (rc == 0)
		rc = object_path(d, NULL, path, sizeof(path), err);
	if (rc == 0)
		rc = s3_send(d, &h, path, query, EMPTY_SHA256, &rq, rs, err);
	if (rc == 0 && rs->status != 200)
		rc = s3_error(d, err, "LIST", key_prefix[0] ? key_prefix : "/", rs);
	if (rc == 0)
		rc = list_page_parse(ls, body.p ? body.p : "", err);
	store_buf_free(&body);
	free(rs);
	return rc;
}

int
s3_list(struct dest *dd, const char *prefix, dest_list_fn fn, void *ctx, struct pga_err *err)
{
	struct s3_dest *d = to_s3(dd);
	struct list_state ls = {.d = d, .fn = fn, .ctx = ctx};
	char key_prefix[2048];
	int rc = pga_path(key_prefix, sizeof(key_prefix), err, "%s%s", d->prefix, prefix ? prefix : "");

	do {
		size_t before = ls.count;

		if (rc == 0)
			rc = list_page(&ls, key_prefix, NULL, err);
		if (rc == 0 && ls.truncated && ls.count == before)
			rc = pga_fail(err, PGA_EREMOTE, "%s: listing is truncated but empty", d->what);
	} while (rc == 0 && ls.truncated);
	return rc;
}

int
s3_get(struct dest *dd, const char *name,
       int (*sink)(void *ctx, const void *buf, size_t len, struct pga_err *err),
       void *ctx, struct pga_err *err)
{
	struct s3_dest *d = to_s3(dd);
	struct s3_hdrs h = {0};
	struct http_request rq = {.method = "GET", .sink = sink, .sink_ctx = ctx};
	struct http_response *rs = malloc(sizeof(*rs));
	char path[8192];
	int rc;

	if (rs == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = object_path(d, name, path, sizeof(path), err);
	if (rc == 0)
		rc = s3_send(d, &h, path, NULL, EMPTY_SHA256, &rq, rs, err);
	if (rc == 0 && rs->status == 404)
		rc = pga_fail(err, PGA_ENOTFOUND, "%s: object '%s' does not exist", d->what, name);
	else if (rc == 0 && rs->status != 200)
		rc = s3_error(d, err, "GET", name, rs);
	free(rs);
	return rc;
}

/* Reachability and credentials: list one key under the prefix. */
int
s3_check(struct dest *dd, struct pga_err *err)
{
	struct s3_dest *d = to_s3(dd);
	struct list_state ls = {.d = d, .fn = store_list_ignore};

	return list_page(&ls, d->prefix, "max-keys=1", err);
}

void
s3_close(struct dest *dd)
{
	struct s3_dest *d = to_s3(dd);

	s3_teardown(d);
	free(d);
}

/* ---- the s3:// kind ---- */

static int
s3_validate(const struct pga_dest *cfg, struct pga_err *err)
{
	char bucket[256], prefix[1024];
	struct s3_creds c;
	int rc;

	rc = dest_url_split(cfg->url, bucket, sizeof(bucket), prefix, sizeof(prefix), err);
	if (rc == 0)
		rc = s3_check_bucket(bucket, err);
	if (rc == 0 && (cfg->region == NULL || cfg->region[0] == '\0'))
		rc = pga_fail(err, PGA_EINVAL, "region must not be empty");
	if (rc == 0)
		rc = s3_resolve_creds(cfg, &c, err);
	explicit_bzero(&c, sizeof(c));
	return rc;
}

static int
s3_open(struct dest **out, const struct pga_dest *cfg, struct pga_err *err)
{
	struct s3_dest *d = calloc(1, sizeof(*d));
	char dflt[256];
	int rc;

	*out = NULL;
	if (d == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	strlcpy(d->region, cfg->region, sizeof(d->region));
	snprintf(dflt, sizeof(dflt), "https://s3.%s.amazonaws.com", d->region);
	rc = s3_resolve_creds(cfg, &d->creds, err);
	if (rc == 0)
		rc = s3_setup(d, cfg, &s3_flavour, dflt, cfg->path_style, err);
	if (rc < 0) {
		s3_close(&d->base);
		return rc;
	}
	*out = &d->base;
	return 0;
}

const struct dest_ops dest_s3_ops = {
	.scheme = "s3",
	.kind = "s3",
	.validate = s3_validate,
	.open = s3_open,
	.put = s3_put,
	.head = s3_head,
	.list = s3_list,
	.get = s3_get,
	.check = s3_check,
	.close = s3_close,
};
