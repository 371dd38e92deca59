/* The object-store layer: requests, the put protocol, paging; see objstore.h. */
#define _GNU_SOURCE
#include "ship/objstore.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <curl/curl.h>

#include "common/fsutil.h"
#include "common/grow.h"
#include "common/log.h"
#include "common/units.h"
#include "ship/base64.h"
#include "ship/sigv4.h"
#include "ship/xml_tag.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define URL_MAX 12288

static struct objstore *
to_os(struct dest *d)
{
	return (struct objstore *)d;
}

/*
 * ---- what the slots of a destination share ----
 *
 * create-only = check: instead of a HEAD per segment, the slots share one
 * listing of the segment's day prefix (collector/yyyy/mm/dd/), at most
 * SEEN_TTL_US old; a name in it gets a HEAD and is compared, a name not in
 * it is PUT.  The window in which another writer could create the same
 * name unseen is the listing's age; stores that honour the condition close
 * it anyway.  Re-sends after our own failed attempts need no check: their
 * object has the segment's own content.
 */
#define SEEN_TTL_US (60 * PGA_USEC_PER_SEC)
#define SEEN_MAX 200000

struct objstore_shared {
	pthread_mutex_t seen_mu;
	char dir[SEG_NAME_MAX];		/* day prefix listed; "" when none */
	int64_t listed_us;		/* monotonic */
	char **names;			/* sorted, relative to the destination's prefix */
	size_t n, cap;
	bool too_many;			/* more than SEEN_MAX: HEAD instead */
	pthread_mutex_t token_mu;	/* held while fetching */
	struct cloud_cred cred;		/* fetched credential, shared by the slots */
	int64_t renew_at_us;		/* monotonic; 0: fetch now */
};

static struct objstore_shared *
shared_of(struct objstore *o)
{
	return o->base.shared->state;
}

int
objstore_share(void **state, const struct pga_dest *cfg, struct pga_err *err)
{
	struct objstore_shared *s = calloc(1, sizeof(*s));

	(void)cfg;
	*state = s;
	if (s == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	pthread_mutex_init(&s->seen_mu, NULL);
	pthread_mutex_init(&s->token_mu, NULL);
	return 0;
}

static void
seen_clear(struct objstore_shared *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	s->names = NULL;
	s->n = s->cap = 0;
	s->dir[0] = '\0';
	s->too_many = false;
}

void
objstore_unshare(void *state)
{
	struct objstore_shared *s = state;

	if (s == NULL)
		return;
	seen_clear(s);
	pthread_mutex_destroy(&s->seen_mu);
	pthread_mutex_destroy(&s->token_mu);
	explicit_bzero(&s->cred, sizeof(s->cred));
	free(s);
}

static int
seen_add(void *ctx, const char *name, uint64_t size, struct pga_err *err)
{
	struct objstore_shared *s = ctx;

	(void)size;
	if (s->n == SEEN_MAX) {
		s->too_many = true;
		return 0;
	}
	if (PGA_GROW(s->names, s->cap, s->n + 1, SEEN_MAX, err) < 0)
		return err->code;
	s->names[s->n] = strdup(name);
	if (s->names[s->n] == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	s->n++;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1: name may exist (listed, or the listing is too large to tell), 0: absent. */
static int
seen_lookup(struct objstore *o, const char *name, struct pga_err *err)
{
	struct objstore_shared *s = shared_of(o);
	const char *slash = strrchr(name, '/');
	char dir[SEG_NAME_MAX];
	int rc = 0;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - name + 1) : 0, name);
	pthread_mutex_lock(&s->seen_mu);
	if (s->dir[0] == '\0' || strcmp(s->dir, dir) != 0 ||
	    pga_mono_us() - s->listed_us > SEEN_TTL_US) {
		seen_clear(s);
		rc = objstore_list(&o->base, dir, seen_add, s, err);
		if (rc == 0) {
			if (s->n > 1)
				qsort(s->names, s->n, sizeof(*s->names), cmp_str);
			strlcpy(s->dir, dir, sizeof(s->dir));
			s->listed_us = pga_mono_us();
			log_debug("%s: %zu objects under '%s'", o->what, s->n, dir);
		} else {
			seen_clear(s);
		}
	}
	if (rc == 0)
		rc = s->too_many || (s->n > 0 &&
				     bsearch(&name, s->names, s->n, sizeof(*s->names), cmp_str) != NULL);
	pthread_mutex_unlock(&s->seen_mu);
	return rc;
}

/* When a credential valid for life_s from now is due for renewal. */
static int64_t
renew_at(int64_t life_s)
{
	int64_t us = life_s * PGA_USEC_PER_SEC;
	int64_t margin = life_s >= 4 * OBJSTORE_RENEW_S ? OBJSTORE_RENEW_S * PGA_USEC_PER_SEC : us / 4;

	return pga_mono_us() + us - margin;
}

int
objstore_token(struct objstore *o, objstore_fetch_fn fetch, struct cloud_cred *c,
	       struct pga_err *err)
{
	struct objstore_shared *s = shared_of(o);
	int rc = 0;

	pthread_mutex_lock(&s->token_mu);
	if (s->renew_at_us == 0 || pga_mono_us() >= s->renew_at_us) {
		explicit_bzero(&s->cred, sizeof(s->cred));
		s->renew_at_us = 0;
		rc = fetch(o, &s->cred, err);
		if (rc == 0 && s->cred.lifetime_s <= 0)
			rc = pga_fail(err, PGA_EINTERNAL, "%s: a credential without a lifetime", o->what);
		if (rc == 0) {
			s->renew_at_us = renew_at(s->cred.lifetime_s);
			log_debug("%s: new credential, valid %lld s", o->what,
				  (long long)s->cred.lifetime_s);
		} else {
			explicit_bzero(&s->cred, sizeof(s->cred));
		}
	}
	if (rc == 0)
		*c = s->cred;
	pthread_mutex_unlock(&s->token_mu);
	return rc;
}

int
objstore_bearer(struct objstore *o, struct objstore_req *rq, objstore_fetch_fn fetch,
		struct pga_err *err)
{
	struct cloud_cred *c = malloc(sizeof(*c));	/* 16 KiB: not on a slot's stack */
	char auth[CLOUD_TOKEN_MAX + 16];
	int rc;

	if (c == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = objstore_token(o, fetch, c, err);
	if (rc == 0) {
		snprintf(auth, sizeof(auth), "Bearer %s", c->token);
		objstore_hdr(rq->h, OBJSTORE_WIRE, "", "Authorization", auth);
	}
	explicit_bzero(c, sizeof(*c));
	free(c);
	explicit_bzero(auth, sizeof(auth));
	return rc;
}

void
objstore_token_drop(struct objstore *o)
{
	struct objstore_shared *s = shared_of(o);

	pthread_mutex_lock(&s->token_mu);
	s->renew_at_us = 0;
	pthread_mutex_unlock(&s->token_mu);
}

/* ---- set-up ---- */

int
objstore_kind_check(const struct objstore_kind *k, const char *name, struct pga_err *err)
{
	const struct objstore_list_syntax *l = &k->list;
	const struct { bool ok; const char *what; } need[] = {
		{k->noun != NULL, "noun"},
		{k->max_object > 0 && k->max_text != NULL, "max_object"},
		{k->create_hdr != NULL && k->create_val != NULL, "create_hdr"},
		{k->meta_prefix != NULL, "meta_prefix"},
		{k->class_hdr != NULL, "class_hdr"},
		{(k->put_hdr == NULL) == (k->put_val == NULL), "put_val"},
		{l->params != NULL && l->limit != NULL, "list.params"},
		{l->item != NULL && l->name != NULL && l->size != NULL, "list.item"},
		{k->setup != NULL, "setup"},
		{k->sign != NULL, "sign"},
	};

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!need[i].ok)
			return pga_fail(err, PGA_EINTERNAL,
					"object-store kind '%s' has no %s (a bug)", name, need[i].what);
	return 0;
}

/* origin, Host and the bucket's path from an endpoint url. */
static int
parse_endpoint(struct objstore *o, const char *endpoint, bool virtual_host,
	       struct pga_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	size_t n;
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
	for (n = path != NULL ? strlen(path) : 0; n > 0 && path[n - 1] == '/'; )
		path[--n] = '\0';
	rc = pga_path(o->host, sizeof(o->host), err, "%s%s%s%s%s", virtual_host ? o->bucket : "",
		      virtual_host ? "." : "", host, port ? ":" : "", port ? port : "");
	if (rc == 0)
		rc = pga_path(o->base_path, sizeof(o->base_path), err, "%s%s%s", path ? path : "",
			      virtual_host ? "" : "/", virtual_host ? "" : o->bucket);
	if (rc == 0)
		rc = pga_path(o->origin, sizeof(o->origin), err, "%s://%s", scheme, o->host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

int
objstore_open(struct dest **out, const struct pga_dest *cfg, const struct objstore_kind *kind,
	      struct pga_err *err)
{
	struct objstore *o = calloc(1, sizeof(*o) + kind->priv_size);
	struct objstore_place pl = {.endpoint = ""};
	struct http_config hc = {.ca_file = cfg->ca_file, .timeout_us = cfg->timeout};
	int rc;

	*out = NULL;
	if (o == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	o->kind = kind;
	dest_what(cfg, o->what, sizeof(o->what));
	hc.what = o->what;
	if (cfg->storage_class != NULL)
		strlcpy(o->storage_class, cfg->storage_class, sizeof(o->storage_class));
	o->check_first = cfg->create_only == PGA_CREATE_CHECK ||
			 (cfg->create_only == PGA_CREATE_AUTO && cfg->endpoint != NULL && kind->auto_check);
	rc = kind->setup(o, cfg, &pl, err);
	if (rc == 0)
		rc = parse_endpoint(o, cfg->endpoint ? cfg->endpoint : pl.endpoint, pl.virtual_host, err);
	if (rc == 0)
		rc = http_client_new(&o->http, &hc, err);
	if (rc < 0) {
		objstore_close(&o->base);
		return rc;
	}
	*out = &o->base;
	return 0;
}

void
objstore_close(struct dest *d)
{
	struct objstore *o = to_os(d);

	if (o->kind->teardown != NULL)
		o->kind->teardown(o);
	http_client_free(o->http);
	explicit_bzero(o->priv, o->kind->priv_size);
	free(o);
}

/* ---- requests ---- */

void
objstore_hdr(struct objstore_hdrs *h, unsigned how, const char *prefix, const char *name,
	     const char *value)
{
	struct dynbuf *b = &h->buf;
	size_t name_at, line_at;

	if (!b->fixed)
		dynbuf_init_fixed(b, h->arena, sizeof(h->arena));
	if (h->n == OBJSTORE_MAX_HEADERS || h->nsig == OBJSTORE_MAX_HEADERS) {
		h->full = true;
		return;
	}
	/* "name\0name: value\0": the signer reads the first and the value */
	name_at = b->len;
	dynbuf_addf(b, "%s%s", prefix, name);
	dynbuf_addc(b, '\0');
	line_at = b->len;
	dynbuf_addf(b, "%s%s: %s", prefix, name, value);
	if (dynbuf_addc(b, '\0') != 0)
		return;
	if (how & OBJSTORE_WIRE)
		h->lines[h->n++] = b->p + line_at;
	if (how & OBJSTORE_SIGNED) {
		h->sig[h->nsig].name = b->p + name_at;
		h->sig[h->nsig++].value = b->p + line_at + (line_at - name_at - 1) + 2;
	}
}

/* One request and its answer: large, so on the heap. */
struct call {
	struct objstore_req r;
	struct objstore_hdrs h;
	struct http_request rq;
	struct http_response rs;
	char path[8192];
	char query[8192];
};

static struct call *
call_new(const char *method, struct pga_err *err)
{
	struct call *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		pga_fail(err, PGA_ENOMEM, "out of memory");
		return NULL;
	}
	c->r.method = c->rq.method = method;
	c->r.path = c->path;
	c->r.h = &c->h;
	return c;
}

/* Sign (by the kind) and send; c->rq carries the body and sink. */
static int
call_send(struct objstore *o, struct call *c, struct pga_err *err)
{
	struct objstore_req *r = &c->r;
	const char *q = c->query, *a;
	char url[URL_MAX];
	int n, rc;

	r->now_us = pga_now_us();
	r->query = q[0] ? q : NULL;
	if (r->payload_sha256 == NULL)
		r->payload_sha256 = EMPTY_SHA256;
	objstore_hdr(&c->h, OBJSTORE_BOTH, "", "host", o->host);
	rc = o->kind->sign(o, r, err);
	if (rc == 0 && (c->h.full || c->h.buf.fail != 0))
		rc = pga_fail(err, PGA_EINVAL, "%s: request headers too long", o->what);
	a = r->auth_query != NULL ? r->auth_query : "";
	n = snprintf(url, sizeof(url), "%s%s%s%s%s%s", o->origin, c->path, q[0] || a[0] ? "?" : "",
		     q, q[0] && a[0] ? "&" : "", a);
	if (rc == 0 && (n < 0 || (size_t)n >= sizeof(url)))
		rc = pga_fail(err, PGA_EINVAL, "%s: request url too long", o->what);
	c->rq.url = url;
	c->rq.headers = c->h.lines;
	c->rq.nheaders = c->h.n;
	c->rq.rl = o->base.rl;
	c->rq.cancel = o->base.cancel;
	c->rq.cancel_ctx = o->base.cancel_ctx;
	if (rc == 0)
		rc = http_do(o->http, &c->rq, &c->rs, err);
	/* the url may hold a SAS, the headers a session token or signature */
	explicit_bzero(url, sizeof(url));
	explicit_bzero(&c->h, sizeof(c->h));
	c->rq.url = NULL;
	c->rq.headers = NULL;
	c->rq.nheaders = 0;
	return rc;
}

/* The server's refusal; a 401 the kind recovers from is retryable. */
static int
refused(struct objstore *o, struct pga_err *err, const char *op, const char *name,
	const struct http_response *rs)
{
	int rc = objstore_http_error(err, o->what, op, name, rs);
	char code[64] = "";

	/* S3 says 400 (or 403) ExpiredToken for a session token past its time */
	if (rs->status == 400 || rs->status == 403)
		xml_tag(rs->body, "Code", code, sizeof(code));
	if ((rs->status == 401 || strcmp(code, "ExpiredToken") == 0) &&
	    o->kind->unauthorized != NULL && o->kind->unauthorized(o))
		err->code = rc = PGA_ENET;
	return rc;
}

/* "<base_path>/<percent-encoded prefix+name>"; unsafe names are refused. */
static int
object_path(struct objstore *o, const char *name, char *path, size_t cap, struct pga_err *err)
{
	char key[2048], enc[6144];
	int rc;

	if (!dest_name_safe(name))
		return pga_fail(err, PGA_EINVAL, "%s: unsafe object name '%s'", o->what, name);
	rc = pga_path(key, sizeof(key), err, "%s%s", o->prefix, name);
	if (rc == 0)
		rc = sigv4_uri_encode(key, 1, enc, sizeof(enc), err);
	if (rc == 0)
		rc = pga_path(path, cap, err, "%s/%s", o->base_path, enc);
	return rc;
}

/* ---- head, get ---- */

/*
 * A HEAD answer has no body, so no error code: for a refusal that names
 * none in a header, ask again with a one-byte GET, whose answer does.
 */
static int
head_error(struct objstore *o, const char *name, struct call *c, struct pga_err *err)
{
	long head_status = c->rs.status;
	char code[128];
	int rc;

	if (head_status < 400 || head_status >= 500 || head_status == 408 || head_status == 429 ||
	    http_header(&c->rs, "x-ms-error-code", code, sizeof(code)) != NULL)
		return refused(o, err, "HEAD", name, &c->rs);
	c->r.method = c->rq.method = "GET";
	objstore_hdr(&c->h, OBJSTORE_BOTH, "", "Range", "bytes=0-0");
	rc = call_send(o, c, err);
	if (rc < 0 || c->rs.status < 400)
		c->rs.status = head_status;
	return refused(o, err, "HEAD", name, &c->rs);
}

/* HEAD name: 1 with seen filled, 0 absent. */
static int
head_seen(struct objstore *o, const char *name, struct objstore_seen *seen, struct pga_err *err)
{
	struct call *c = call_new("HEAD", err);
	int rc;

	memset(seen, 0, sizeof(*seen));
	if (c == NULL)
		return PGA_ENOMEM;
	rc = object_path(o, name, c->path, sizeof(c->path), err);
	if (rc == 0)
		rc = call_send(o, c, err);
	if (rc == 0 && c->rs.status == 200) {
		objstore_read_head(&c->rs, o->kind->meta_prefix, seen);
		rc = 1;
	} else if (rc == 0 && c->rs.status != 404) {
		rc = head_error(o, name, c, err);
	}
	free(c);
	return rc;
}

int
objstore_head(struct dest *d, const char *name, struct dest_object *obj, struct pga_err *err)
{
	struct objstore_seen seen;
	int rc = head_seen(to_os(d), name, &seen, err);

	if (rc == 1)
		*obj = seen.obj;
	return rc;
}

int
objstore_get(struct dest *d, const char *name, dest_sink_fn sink, void *ctx,
	     struct pga_err *err)
{
	struct objstore *o = to_os(d);
	struct call *c = call_new("GET", err);
	int rc;

	if (c == NULL)
		return PGA_ENOMEM;
	c->rq.sink = sink;
	c->rq.sink_ctx = ctx;
	rc = object_path(o, name, c->path, sizeof(c->path), err);
	if (rc == 0)
		rc = call_send(o, c, err);
	if (rc == 0 && c->rs.status == 404)
		rc = pga_fail(err, PGA_ENOTFOUND, "%s: %s '%s' does not exist", o->what,
			      o->kind->noun, name);
	else if (rc == 0 && c->rs.status != 200)
		rc = refused(o, err, "GET", name, &c->rs);
	free(c);
	return rc;
}

/* ---- put ---- */

/* One PUT of the segment; *status is the answer's when one came. */
static int
put_once(struct objstore *o, const struct dest_upload *up, int fd, bool create_only,
	 long *status, struct pga_err *err)
{
	const struct objstore_kind *k = o->kind;
	struct call *c = call_new("PUT", err);
	char sha_hex[PGA_SHA256_HEX], md5_b64[32], len[32];
	int rc;

	if (c == NULL)
		return PGA_ENOMEM;
	c->rq.body_fd = fd;
	c->rq.body_from_fd = true;
	c->rq.body_len = up->size;
	pga_hex(up->sha256, PGA_SHA256_LEN, sha_hex);
	base64_encode(up->md5, sizeof(up->md5), md5_b64, sizeof(md5_b64));
	snprintf(len, sizeof(len), "%" PRIu64, up->size);
	c->r.payload_sha256 = sha_hex;
	if (k->sign_length)	/* curl sends it itself */
		objstore_hdr(&c->h, OBJSTORE_SIGNED, "", "Content-Length", len);
	objstore_hdr(&c->h, OBJSTORE_BOTH, "", "Content-MD5", md5_b64);
	objstore_hdr(&c->h, OBJSTORE_BOTH, "", "Content-Type", "application/octet-stream");
	if (create_only)
		objstore_hdr(&c->h, OBJSTORE_BOTH, "", k->create_hdr, k->create_val);
	if (k->put_hdr != NULL)
		objstore_hdr(&c->h, OBJSTORE_BOTH, "", k->put_hdr, k->put_val);
	objstore_hdr(&c->h, OBJSTORE_BOTH, k->meta_prefix, "sha256", sha_hex);
	if (o->storage_class[0])
		objstore_hdr(&c->h, OBJSTORE_BOTH, "", k->class_hdr, o->storage_class);
	rc = object_path(o, up->name, c->path, sizeof(c->path), err);
	if (rc == 0)
		rc = call_send(o, c, err);
	if (rc == 0)
		*status = c->rs.status;
	if (rc == 0 && (c->rs.status < 200 || c->rs.status >= 300) &&
	    !(create_only && (c->rs.status == 412 || c->rs.status == 409)))
		rc = refused(o, err, "PUT", up->name, &c->rs);
	free(c);
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

/* 1: the object is a proper prefix of the segment (a torn copy), 0: not. */
static int
is_torn_copy(struct objstore *o, const struct dest_upload *up,
	     const struct objstore_seen *seen, int fd, struct pga_err *err)
{
	struct prefix_cmp pc = {fd, 0, false};
	int rc;

	if (seen->obj.size >= up->size ||
	    (seen->obj.have_sha256 && memcmp(seen->obj.sha256, up->sha256, PGA_SHA256_LEN) != 0))
		return 0;
	rc = objstore_get(&o->base, up->name, prefix_sink, &pc, err);
	if (rc < 0)
		return rc;
	return !pc.differs && pc.off == seen->obj.size;
}

/* The object is there: same content, a torn copy of ours to replace, or a conflict. */
static int
resolve_existing(struct objstore *o, const struct dest_upload *up,
		 const struct objstore_seen *seen, int fd, struct pga_err *err)
{
	struct pga_err cerr = {0};
	long status;
	int rc = objstore_compare(o->what, up->name, seen, up, &cerr);

	if (rc == 0) {
		log_debug("%s: '%s' already there with the same content", o->what, up->name);
		return 0;
	}
	rc = is_torn_copy(o, up, seen, fd, err);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		*err = cerr;
		return err->code;
	}
	log_warn("%s: '%s' holds %llu of the segment's %llu bytes (an interrupted upload the store "
		 "kept): replacing it", o->what, up->name, (unsigned long long)seen->obj.size,
		 (unsigned long long)up->size);
	return put_once(o, up, fd, false, &status, err);
}

int
objstore_put(struct dest *d, const struct dest_upload *up, struct pga_err *err)
{
	struct objstore *o = to_os(d);
	struct objstore_seen seen;
	long status = 0;
	int fd, rc = 0;

	if (up->size > o->kind->max_object)
		return pga_fail(err, PGA_EREMOTE, "%s: '%s' is larger than %s, the limit of one PUT",
				o->what, up->name, o->kind->max_text);
	fd = open(up->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pga_fail(err, errno == ENOENT ? PGA_ENOTFOUND : PGA_EIO,
				"could not open '%s': %m", up->path);
	if (o->check_first) {
		rc = seen_lookup(o, up->name, err);
		if (rc == 1)
			rc = head_seen(o, up->name, &seen, err);
	}
	if (rc == 0) {
		rc = put_once(o, up, fd, true, &status, err);
		if (rc == 0 && (status == 412 || status == 409)) {
			rc = head_seen(o, up->name, &seen, err);
			if (rc == 0)
				rc = pga_fail(err, PGA_ENET, "%s: PUT '%s' was refused as a conflict but "
					      "the %s is not there", o->what, up->name, o->kind->noun);
		}
	}
	if (rc == 1)
		rc = resolve_existing(o, up, &seen, fd, err);
	close(fd);
	return rc;
}

/* ---- list, check ---- */

static int
body_sink(void *ctx, const void *buf, size_t len, struct pga_err *err)
{
	struct dynbuf *b = ctx;
	int rc = dynbuf_addn(b, buf, len);

	if (rc == PGA_ENOMEM)
		return pga_fail(err, rc, "out of memory");
	if (rc < 0)
		return pga_fail(err, PGA_EREMOTE, "response larger than %zu bytes", b->max);
	return 0;
}

/* One page of names under key_prefix, from pg->marker on; limit 0: the store's;
 * dirs: with delimiter=/, the common prefixes instead of the objects. */
static int
list_page_of(struct objstore *o, const char *key_prefix, unsigned limit, bool dirs,
	     struct objstore_page *pg, dest_list_fn fn, void *ctx, struct pga_err *err)
{
	const struct objstore_list_syntax *syn = &o->kind->list;
	struct call *c = call_new("GET", err);
	struct dynbuf body;
	char ep[4096], em[3 * OBJSTORE_MARKER_MAX], lim[32] = "";
	int rc;

	if (c == NULL)
		return PGA_ENOMEM;
	dynbuf_init(&body, OBJSTORE_LIST_MAX);
	c->rq.sink = body_sink;
	c->rq.sink_ctx = &body;
	if (limit > 0)
		snprintf(lim, sizeof(lim), "&%s=%u", syn->limit, limit);
	rc = sigv4_uri_encode(key_prefix, 0, ep, sizeof(ep), err);
	if (rc == 0)
		rc = sigv4_uri_encode(pg->marker, 0, em, sizeof(em), err);
	if (rc == 0)
		rc = pga_path(c->query, sizeof(c->query), err, "%s%s%s%s%s%sprefix=%s%s",
			      syn->params, syn->params[0] ? "&" : "", dirs ? "delimiter=%2F&" : "",
			      pg->marker[0] ? "marker=" : "", pg->marker[0] ? em : "",
			      pg->marker[0] ? "&" : "", ep, lim);
	if (rc == 0)
		rc = pga_path(c->path, sizeof(c->path), err, "%s%s", o->base_path,
			      o->kind->list_slash ? "/" : "");
	if (rc == 0)
		rc = call_send(o, c, err);
	if (rc == 0 && c->rs.status != 200)
		rc = refused(o, err, "LIST", key_prefix[0] ? key_prefix : "/", &c->rs);
	if (rc == 0 && dirs)
		rc = objstore_list_dirs_page_parse(syn, dynbuf_str(&body), key_prefix, pg, fn,
						   ctx, o->what, err);
	else if (rc == 0)
		rc = objstore_list_page_parse(syn, dynbuf_str(&body), o->prefix, pg, fn, ctx,
					      o->what, err);
	dynbuf_free(&body);
	free(c);
	return rc;
}

static int
list_page(struct objstore *o, const char *key_prefix, unsigned limit, struct objstore_page *pg,
	  dest_list_fn fn, void *ctx, struct pga_err *err)
{
	return list_page_of(o, key_prefix, limit, false, pg, fn, ctx, err);
}

struct dirs_seen {
	dest_list_fn fn;
	void *ctx;
	size_t n;
	char first[SEG_NAME_MAX];	/* skip_scan(): the one name of the page */
};

static int
count_dir(void *ctx, const char *name, uint64_t size, struct pga_err *err)
{
	struct dirs_seen *s = ctx;

	s->n++;
	return s->fn(s->ctx, name, size, err);
}

static int
first_name(void *ctx, const char *name, uint64_t size, struct pga_err *err)
{
	struct dirs_seen *s = ctx;

	(void)size;
	(void)err;
	strlcpy(s->first, name, sizeof(s->first));
	return 0;
}

/*
 * The prefixes under key_prefix from one object of each: list one name
 * from a marker, report its next path component, and go on from just
 * past that component ('0' follows '/'), one request per prefix.  For
 * stores that ignore delimiter= on nested keys (s3rver keeps keys as
 * directories and never looks under a common prefix); needs markers that
 * are keys (S3, GCS), not Azure's opaque ones.
 */
static int
skip_scan(struct objstore *o, const char *key_prefix, const char *prefix, dest_list_fn fn,
	  void *ctx, struct pga_err *err)
{
	struct objstore_page pg = {.marker = ""};
	struct dirs_seen s = {0};
	size_t plen = strlen(prefix), klen = strlen(key_prefix);
	int rc = 0;

	for (;;) {
		char comp[SEG_NAME_MAX];
		size_t n;

		s.first[0] = '\0';
		rc = list_page(o, key_prefix, 1, &pg, first_name, &s, err);
		if (rc < 0 || (s.first[0] == '\0' && pg.marker[0] == '\0'))
			return rc;
		if (s.first[0] == '\0')
			continue;	/* a name that is not a segment: on from it */
		n = strcspn(s.first + plen, "/");
		if (strncmp(s.first, prefix, plen) != 0 || s.first[plen + n] != '/' || n + 2 >= sizeof(comp))
			return pga_fail(err, PGA_EREMOTE, "%s: listing under '%s' gave '%s'", o->what,
					key_prefix, s.first);
		snprintf(comp, sizeof(comp), "%.*s/", (int)n, s.first + plen);
		rc = fn(ctx, comp, 0, err);
		if (rc == 0 && pga_path(pg.marker, sizeof(pg.marker), err, "%.*s%.*s0", (int)klen,
					key_prefix, (int)n, s.first + plen) < 0)
			rc = err->code;
		if (rc < 0)
			return rc;
	}
}

int
objstore_list_dirs(struct dest *d, const char *prefix, dest_list_fn fn, void *ctx,
		   struct pga_err *err)
{
	struct objstore *o = to_os(d);
	struct objstore_page pg = {.marker = ""};
	struct dirs_seen seen = {.fn = fn, .ctx = ctx};
	char key_prefix[2048];
	int rc = pga_path(key_prefix, sizeof(key_prefix), err, "%s%s", o->prefix,
			  prefix ? prefix : "");

	if (o->kind->list.dir_item == NULL)
		return pga_fail(err, PGA_EINVAL, "%s: this store cannot list by prefix", o->what);
	log_debug("%s: listing the prefixes under '%s'", o->what, key_prefix);
	do {
		if (rc == 0)
			rc = list_page_of(o, key_prefix, 0, true, &pg, count_dir, &seen, err);
	} while (rc == 0 && pg.marker[0] != '\0');
	/* nothing at all: empty, or a store that ignored the delimiter */
	if (rc == 0 && seen.n == 0 && o->kind->list.next == NULL)
		rc = skip_scan(o, key_prefix, prefix ? prefix : "", fn, ctx, err);
	return rc;
}

int
objstore_list(struct dest *d, const char *prefix, dest_list_fn fn, void *ctx,
	      struct pga_err *err)
{
	struct objstore *o = to_os(d);
	struct objstore_page pg = {.marker = ""};
	char key_prefix[2048];
	int rc = pga_path(key_prefix, sizeof(key_prefix), err, "%s%s", o->prefix,
			  prefix ? prefix : "");

	log_debug("%s: listing the objects under '%s'", o->what, key_prefix);
	do {
		if (rc == 0)
			rc = list_page(o, key_prefix, 0, &pg, fn, ctx, err);
	} while (rc == 0 && pg.marker[0] != '\0');
	return rc;
}

static int
ignore_entry(void *ctx, const char *name, uint64_t size, struct pga_err *err)
{
	(void)ctx;
	(void)name;
	(void)size;
	(void)err;
	return 0;
}

/* Reachability and credentials: list one name under the prefix. */
int
objstore_check(struct dest *d, struct pga_err *err)
{
	struct objstore *o = to_os(d);
	struct objstore_page pg = {.marker = ""};

	return list_page(o, o->prefix, 1, &pg, ignore_entry, NULL, err);
}
