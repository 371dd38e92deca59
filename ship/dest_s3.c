/*
 * dest_s3.c - s3://bucket/prefix: Amazon S3 and compatible stores
 *
 * The requests, the put protocol and paging are the object-store layer's
 * (objstore.h); this file says how S3 signs (SigV4, shared with GCS's HMAC
 * mode through dest_s3.h) and lists (ListObjects v1, which every S3 clone
 * and GCS speak), and what it names its headers: x-amz-content-sha256 (the
 * real payload hash, signed), x-amz-meta-sha256, If-None-Match: *.
 * Objects are single PUTs (up to 5 GiB, far above segment-max-size).
 *
 * Addressing: virtual host (bucket.s3.REGION.amazonaws.com) unless
 * path-style is set, or the bucket name has a dot and no endpoint is set
 * (a dotted name does not match the wildcard certificate).
 *
 * Credentials: access-key-id/secret-access-key from the section, else
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, else the
 * credentials file (credentials-file, AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials; mode 0600 or it is refused) and its profile.  The
 * file is read by hand, not with libinih: inih as Debian builds it cuts
 * lines at 200 bytes (a session token is longer) and strips " ;" comments.
 * Without static keys, workload identity (web identity, container
 * credentials, the EC2 instance role): ship/cloud_cred.h gives the chain;
 * the fetched keys are the destination's one cached credential, and their
 * session token is sent and signed as x-amz-security-token.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/fsutil.h"
#include "ship/dest_s3.h"
#include "ship/sigv4.h"

#define S3_CREDFILE_MAX 65536

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

/* The credentials file to read, or NULL: none is set and ~/.aws/credentials
 * does not exist. */
static const char *
creds_file_path(const struct pga_dest *cfg, char *dflt, size_t cap)
{
	const char *path = cfg->credentials_file;

	if (path == NULL)
		path = getenv("AWS_SHARED_CREDENTIALS_FILE");
	if (path == NULL && getenv("HOME") != NULL) {
		snprintf(dflt, cap, "%s/.aws/credentials", getenv("HOME"));
		if (access(dflt, F_OK) == 0)
			path = dflt;
	}
	return path;
}

static bool
env_keys(void)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");

	return id != NULL && secret != NULL && *id && *secret;
}

void
s3_static_present(const struct pga_dest *cfg, struct cloud_static *st)
{
	char dflt[4096];

	st->keys = cfg->access_key_id != NULL || cfg->secret_access_key != NULL || env_keys();
	st->file = creds_file_path(cfg, dflt, sizeof(dflt)) != NULL;
}

static int
creds_from_file(const struct pga_dest *cfg, struct s3_creds *c, struct pga_err *err)
{
	const char *profile = cfg->profile ? cfg->profile : "default";
	char dflt[4096], *text;
	const char *path = creds_file_path(cfg, dflt, sizeof(dflt));
	int rc;

	if (path == NULL)
		return pga_fail(err, PGA_EINVAL,
				"no credentials: set access-key-id and secret-access-key, "
				"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or credentials-file "
				"(or a workload identity: see credential-source)");
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
	if (env_keys()) {
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
s3_check_creds(const struct pga_dest *cfg, struct pga_err *err)
{
	struct s3_creds c;
	int rc = s3_resolve_creds(cfg, &c, err);

	explicit_bzero(&c, sizeof(c));
	return rc;
}

int
s3_check_url(const char *url, struct pga_err *err)
{
	char b[256], prefix[1024];
	size_t n;
	int rc = dest_url_split(url, b, sizeof(b), prefix, sizeof(prefix), err);

	if (rc < 0)
		return rc;
	n = strlen(b);
	if (n < 3 || n > 222)
		return pga_fail(err, PGA_EINVAL, "bucket name '%s' must have 3 to 222 characters", b);
	for (const char *c = b; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' ||
		      *c == '-' || *c == '_'))
			return pga_fail(err, PGA_EINVAL,
					"bucket name '%s' may only hold a-z, 0-9, '.', '-' and '_'", b);
	return 0;
}

/* ---- signing ---- */

/* A fetched credential for the destination (an objstore_fetch_fn). */
static int
s3_fetch(struct objstore *o, struct cloud_cred *c, struct pga_err *err)
{
	struct s3_signing *s = objstore_priv(o);
	struct cloud_ctx ctx = objstore_cloud_ctx(o);

	return cloud_fetch(s->src, &ctx, c, err);
}

static int
sign_with(struct objstore *o, struct objstore_req *rq, const char *id, const char *secret,
	  const char *token, struct pga_err *err)
{
	struct s3_signing *s = objstore_priv(o);
	const char *hp = s->fl->hp;
	struct sigv4_request sr = {rq->method, rq->path, rq->query, rq->h->sig, 0,
				   rq->payload_sha256, rq->now_us, 0};
	struct sigv4_key key = {s->fl->algorithm, id, secret, s->region, s->fl->service};
	char date[32], auth[SIGV4_AUTH_MAX];
	int rc;

	sigv4_amz_date(rq->now_us, date, sizeof(date));
	objstore_hdr(rq->h, OBJSTORE_BOTH, hp, "date", date);
	objstore_hdr(rq->h, OBJSTORE_BOTH, hp, "content-sha256", rq->payload_sha256);
	if (token[0])
		objstore_hdr(rq->h, OBJSTORE_BOTH, hp, "security-token", token);
	if (rq->h->full || rq->h->buf.fail != 0)
		return 0;	/* reported by the layer, before sending */
	sr.nheaders = rq->h->nsig;
	rc = sigv4_sign(&sr, &key, NULL, 0, NULL, 0, auth, sizeof(auth), err);
	if (rc == 0)
		objstore_hdr(rq->h, OBJSTORE_WIRE, "", "Authorization", auth);
	explicit_bzero(auth, sizeof(auth));
	return rc;
}

int
s3_sign(struct objstore *o, struct objstore_req *rq, struct pga_err *err)
{
	struct s3_signing *s = objstore_priv(o);
	struct cloud_cred *c;
	int rc;

	if (s->src == CLOUD_STATIC)
		return sign_with(o, rq, s->creds.id, s->creds.secret, s->creds.token, err);
	c = malloc(sizeof(*c));
	if (c == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = objstore_token(o, s3_fetch, c, err);
	if (rc == 0)
		rc = sign_with(o, rq, c->id, c->secret, c->token, err);
	explicit_bzero(c, sizeof(*c));
	free(c);
	return rc;
}

/* A refused fetched credential is dropped: the next attempt fetches anew. */
bool
s3_unauthorized(struct objstore *o)
{
	struct s3_signing *s = objstore_priv(o);

	if (s->src != CLOUD_STATIC)
		objstore_token_drop(o);
	return s->src != CLOUD_STATIC;
}

int
s3_pick(const struct pga_dest *cfg, const char *kind, enum cloud_source *src,
	struct pga_err *err)
{
	struct cloud_static st;

	s3_static_present(cfg, &st);
	if (strcmp(kind, "gcs") == 0)
		st.keys = st.keys || cfg->key_file != NULL;
	return cloud_pick(kind, cfg->credential_source, &st, src, err);
}

/* ---- the s3:// kind ---- */

static const struct s3_flavour aws = {"AWS4-HMAC-SHA256", "s3", "x-amz-"};

/* region unset: AWS's own default, where a bucket without a region lives */
#define S3_DEFAULT_REGION "us-east-1"

static int
s3_setup(struct objstore *o, const struct pga_dest *cfg, struct objstore_place *pl,
	 struct pga_err *err)
{
	struct s3_signing *s = objstore_priv(o);
	int rc;

	s->fl = &aws;
	strlcpy(s->region, cfg->region ? cfg->region : S3_DEFAULT_REGION, sizeof(s->region));
	rc = s3_pick(cfg, "s3", &s->src, err);
	if (rc == 0 && s->src == CLOUD_STATIC)
		rc = s3_resolve_creds(cfg, &s->creds, err);
	if (rc == 0)
		rc = dest_url_split(cfg->url, o->bucket, sizeof(o->bucket), o->prefix,
				    sizeof(o->prefix), err);
	snprintf(pl->endpoint, sizeof(pl->endpoint), "https://s3.%s.amazonaws.com", s->region);
	pl->virtual_host = !cfg->path_style && !(cfg->endpoint == NULL && strchr(o->bucket, '.'));
	return rc;
}

static const struct objstore_kind s3_kind = {
	S3_PROTOCOL,
	.create_hdr = "If-None-Match", .create_val = "*",
	.meta_prefix = "x-amz-meta-", .class_hdr = "x-amz-storage-class",
	.priv_size = sizeof(struct s3_signing), .setup = s3_setup, .sign = s3_sign,
	.unauthorized = s3_unauthorized,
};

static int
s3_validate(const struct pga_dest *cfg, struct pga_err *err)
{
	enum cloud_source src = CLOUD_STATIC;
	int rc = s3_check_url(cfg->url, err);

	if (rc == 0 && cfg->region != NULL && cfg->region[0] == '\0')
		rc = pga_fail(err, PGA_EINVAL, "region must not be empty");
	if (rc == 0)
		rc = s3_pick(cfg, "s3", &src, err);
	return rc == 0 && src == CLOUD_STATIC ? s3_check_creds(cfg, err) : rc;
}

static int
s3_open(struct dest **out, const struct pga_dest *cfg, struct pga_err *err)
{
	return objstore_open(out, cfg, &s3_kind, err);
}

const struct dest_ops dest_s3_ops = OBJSTORE_DEST_OPS("s3", &s3_kind, s3_validate, s3_open);
