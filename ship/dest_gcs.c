/*
 * dest_gcs.c - gs://bucket/prefix through Google Cloud Storage's XML API
 *
 * The XML API is S3's protocol (the object-store layer does the requests,
 * dest_s3.c the HMAC signing) with GCS names: x-goog-date,
 * x-goog-content-sha256, x-goog-meta-sha256, and create-only as
 * x-goog-if-generation-match: 0.  Two ways to authenticate:
 *   - HMAC keys (access-key-id / secret-access-key, or the AWS_* variables
 *     and credentials file as for S3), signed GOOG4-HMAC-SHA256;
 *   - a service-account JSON key (key-file, mode 0600): an RS256 JWT is
 *     exchanged for an OAuth access token at the key's token_uri (or
 *     token-url), sent as a bearer token;
 *   - without either, the GCE/GKE metadata server's token for the
 *     instance's service account (credential-source, ship/cloud_cred.h).
 * One token per destination is shared by its upload slots
 * (objstore_token()) and renewed before it expires, or at once after a 401.
 * Region in the signature scope: 'auto' unless region is set (the S3
 * default us-east-1 is s3://'s alone).  GCS accepts path-style addressing
 * everywhere, so dotted bucket names just work.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "common/units.h"
#include "ship/dest_s3.h"
#include "ship/gcs_auth.h"

#define GCS_ENDPOINT "https://storage.googleapis.com"

struct gcs_priv {
	struct s3_signing s3;		/* first: s3_sign() reads it */
	struct gcs_key *key;		/* NULL: HMAC keys or the metadata server */
	enum cloud_source src;		/* CLOUD_STATIC: key or HMAC keys */
	char token_url[1024];
};

static const struct s3_flavour goog = {"GOOG4-HMAC-SHA256", "storage", "x-goog-"};

/* The token endpoint's answer: the token, or why it refused. */
static int
token_answer(struct objstore *o, const struct http_response *rs, char *token, size_t cap,
	     int64_t *expires_in, struct pga_err *err)
{
	int rc;

	if (rs->status == 200)
		return gcs_parse_token_response(rs->body, token, cap, expires_in, err);
	if (rs->status >= 500 || rs->status == 429 || rs->status == 408 || rs->body_len == 0)
		return objstore_http_error(err, o->what, "POST", "token", rs);
	/* an OAuth error body ("invalid_grant: ...") says why better than the status */
	rc = gcs_parse_token_response(rs->body, token, cap, expires_in, err);
	explicit_bzero(token, cap);
	if (rc == 0)
		return objstore_http_error(err, o->what, "POST", "token", rs);
	pga_err_prefix(err, "token request refused (%ld)", rs->status);
	return dest_err_wrap(err, PGA_EREMOTE, o->what);
}

/* POST the JWT assertion for a new access token (an objstore_fetch_fn). */
static int
fetch_jwt_token(struct objstore *o, char *token, size_t cap, int64_t *expires_in,
		struct pga_err *err)
{
	static const char grant[] =
		"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
	struct gcs_priv *g = objstore_priv(o);
	const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
			      "Accept: application/json"};
	char *body = malloc(sizeof(grant) + GCS_JWT_MAX);
	struct http_response *rs = malloc(sizeof(*rs));
	struct http_request rq = {.method = "POST", .url = g->token_url, .headers = hdrs,
				  .nheaders = 2, .cancel = o->base.cancel,
				  .cancel_ctx = o->base.cancel_ctx};
	int rc;

	if (body == NULL || rs == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
		goto out;
	}
	strcpy(body, grant);
	rc = gcs_jwt_assertion(g->key, GCS_SCOPE_RW, g->token_url, pga_now_us(),
			       body + strlen(grant), GCS_JWT_MAX, err);
	if (rc < 0)
		goto out;
	rq.body = body;
	rq.body_len = strlen(body);
	rc = http_do(o->http, &rq, rs, err);
	if (rc == 0)
		rc = token_answer(o, rs, token, cap, expires_in, err);
out:
	if (body != NULL)
		explicit_bzero(body, sizeof(grant) + GCS_JWT_MAX);
	if (rs != NULL)
		explicit_bzero(rs->body, sizeof(rs->body));
	free(body);
	free(rs);
	return rc;
}

/* A bearer token from the key's JWT exchange or the metadata server (an
 * objstore_fetch_fn). */
static int
fetch_token(struct objstore *o, struct cloud_cred *c, struct pga_err *err)
{
	struct gcs_priv *g = objstore_priv(o);
	struct cloud_ctx ctx = objstore_cloud_ctx(o);

	if (g->key == NULL)
		return cloud_fetch(g->src, &ctx, c, err);
	return fetch_jwt_token(o, c->token, sizeof(c->token), &c->lifetime_s, err);
}

static int
gcs_sign(struct objstore *o, struct objstore_req *rq, struct pga_err *err)
{
	struct gcs_priv *g = objstore_priv(o);

	if (g->key == NULL && g->src == CLOUD_STATIC)
		return s3_sign(o, rq, err);
	return objstore_bearer(o, rq, fetch_token, err);
}

/* A refused token is dropped: the next attempt fetches a new one. */
static bool
gcs_unauthorized(struct objstore *o)
{
	struct gcs_priv *g = objstore_priv(o);
	bool fetched = g->key != NULL || g->src != CLOUD_STATIC;

	if (fetched)
		objstore_token_drop(o);
	return fetched;
}

static int
gcs_setup(struct objstore *o, const struct pga_dest *cfg, struct objstore_place *pl,
	  struct pga_err *err)
{
	struct gcs_priv *g = objstore_priv(o);
	int rc;

	g->s3.fl = &goog;
	strlcpy(g->s3.region, cfg->region ? cfg->region : "auto", sizeof(g->s3.region));
	rc = s3_pick(cfg, "gcs", &g->src, err);
	if (rc == 0 && g->src == CLOUD_STATIC && cfg->key_file != NULL) {
		rc = gcs_key_load(&g->key, cfg->key_file, err);
		if (rc == 0)
			strlcpy(g->token_url, cfg->token_url ? cfg->token_url : gcs_key_token_uri(g->key),
				sizeof(g->token_url));
	} else if (rc == 0 && g->src == CLOUD_STATIC) {
		rc = s3_resolve_creds(cfg, &g->s3.creds, err);
	}
	if (rc == 0)
		rc = dest_url_split(cfg->url, o->bucket, sizeof(o->bucket), o->prefix,
				    sizeof(o->prefix), err);
	strlcpy(pl->endpoint, GCS_ENDPOINT, sizeof(pl->endpoint));
	pl->virtual_host = false;
	return rc;
}

static void
gcs_teardown(struct objstore *o)
{
	struct gcs_priv *g = objstore_priv(o);

	gcs_key_free(g->key);
}

static const struct objstore_kind gcs_kind = {
	S3_PROTOCOL,
	.create_hdr = "x-goog-if-generation-match", .create_val = "0",
	.meta_prefix = "x-goog-meta-", .class_hdr = "x-goog-storage-class",
	.priv_size = sizeof(struct gcs_priv), .setup = gcs_setup, .sign = gcs_sign,
	.unauthorized = gcs_unauthorized, .teardown = gcs_teardown,
};

static int
gcs_validate(const struct pga_dest *cfg, struct pga_err *err)
{
	struct gcs_key *k = NULL;
	enum cloud_source src = CLOUD_STATIC;
	int rc = s3_check_url(cfg->url, err);

	if (rc == 0 && cfg->token_url != NULL && strncmp(cfg->token_url, "https://", 8) != 0 &&
	    strncmp(cfg->token_url, "http://", 7) != 0)
		rc = pga_fail(err, PGA_EINVAL, "token-url '%s' is not an http(s) url", cfg->token_url);
	if (rc == 0)
		rc = s3_pick(cfg, "gcs", &src, err);
	if (rc < 0 || src != CLOUD_STATIC)
		return rc;
	if (cfg->key_file == NULL)
		return s3_check_creds(cfg, err);
	rc = gcs_key_load(&k, cfg->key_file, err);
	gcs_key_free(k);
	return rc;
}

static int
gcs_open(struct dest **out, const struct pga_dest *cfg, struct pga_err *err)
{
	return objstore_open(out, cfg, &gcs_kind, err);
}

const struct dest_ops dest_gcs_ops = OBJSTORE_DEST_OPS("gcs", &gcs_kind, gcs_validate, gcs_open);
