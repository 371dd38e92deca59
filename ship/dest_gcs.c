/*
 * dest_gcs.c - gs://bucket/prefix through Google Cloud Storage's XML API
 *
 * The XML API is S3's protocol (dest_s3.c does the requests) with GCS
 * names: x-goog-date, x-goog-content-sha256, x-goog-meta-sha256, and
 * create-only as x-goog-if-generation-match: 0.  Two ways to authenticate:
 *   - HMAC keys (access-key-id / secret-access-key, or the AWS_* variables
 *     and credentials file as for S3), signed GOOG4-HMAC-SHA256;
 *   - a service-account JSON key (key-file, mode 0600): an RS256 JWT is
 *     exchanged for an OAuth access token at the key's token_uri (or
 *     token-url), sent as a bearer token.  One token per destination is
 *     shared by its upload slots and renewed a minute before it expires, or
 *     at once after a 401.
 * Region in the signature scope: 'auto' unless region is set to something
 * other than the S3 default.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "common/log.h"
#include "common/units.h"
#include "ship/dest_int.h"
#include "ship/gcs_auth.h"
#include "ship/http.h"
#include "ship/s3_int.h"
#include "ship/store_util.h"

#define GCS_ENDPOINT "https://storage.googleapis.com"
#define GCS_TOKEN_SLOTS 64

static const struct s3_flavour gcs_flavour = {
	"gcs", "GOOG4-HMAC-SHA256", "storage", "x-goog-",
	"x-goog-if-generation-match", "0",
};

/* The access token of one destination, shared by its slots. */
struct token_slot {
	char name[PGA_NAME_MAX + 1];
	pthread_mutex_t mu;		/* held while fetching */
	char token[S3_BEARER_MAX];
	int64_t renew_at_us;		/* monotonic; 0: fetch now */
};

static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static struct token_slot slots[GCS_TOKEN_SLOTS];

struct gcs_dest {
	struct s3_dest s3;		/* first: the S3 core casts to it */
	struct gcs_key *key;
	char token_url[1024];
	struct token_slot *tok;
};

static struct token_slot *
token_slot_for(const char *name)
{
	struct token_slot *t = NULL;

	pthread_mutex_lock(&slots_mu);
	for (size_t i = 0; i < GCS_TOKEN_SLOTS && t == NULL; i++) {
		if (slots[i].name[0] == '\0') {
			strlcpy(slots[i].name, name, sizeof(slots[i].name));
			pthread_mutex_init(&slots[i].mu, NULL);
			t = &slots[i];
		} else if (strcmp(slots[i].name, name) == 0) {
			t = &slots[i];
		}
	}
	pthread_mutex_unlock(&slots_mu);
	return t;
}

/* The token endpoint's answer: the token, or why it refused. */
static int
token_answer(struct gcs_dest *g, struct token_slot *tok, const struct http_response *rs,
	     int64_t *expires_in, struct pga_err *err)
{
	int rc;

	if (rs->status == 200)
		return gcs_parse_token_response(rs->body, tok->token, sizeof(tok->token),
						expires_in, err);
	if (rs->status >= 500 || rs->status == 429 || rs->status == 408 || rs->body_len == 0)
		return store_http_error(err, g->s3.what, "POST", "token", rs);
	/* an OAuth error body ("invalid_grant: ...") says why better than the status */
	rc = gcs_parse_token_response(rs->body, tok->token, sizeof(tok->token), expires_in, err);
	explicit_bzero(tok->token, sizeof(tok->token));
	if (rc == 0)
		return store_http_error(err, g->s3.what, "POST", "token", rs);
	pga_err_prefix(err, "token request refused (%ld)", rs->status);
	return dest_err_wrap(err, PGA_EREMOTE, g->s3.what);
}

/* POST the JWT assertion; fills tok on success. */
static int
fetch_token(struct gcs_dest *g, struct token_slot *tok, struct pga_err *err)
{
	static const char grant[] =
		"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
	const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
			      "Accept: application/json"};
	char *body = malloc(sizeof(grant) + GCS_JWT_MAX);
	struct http_response *rs = malloc(sizeof(*rs));
	struct http_request rq = {.method = "POST", .url = g->token_url, .headers = hdrs,
				  .nheaders = 2, .cancel = g->s3.base.cancel,
				  .cancel_ctx = g->s3.base.cancel_ctx};
	int64_t expires_in = 0;
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
	rc = http_do(g->s3.http, &rq, rs, err);
	if (rc == 0)
		rc = token_answer(g, tok, rs, &expires_in, err);
	if (rc == 0) {
		int64_t life = expires_in * PGA_USEC_PER_SEC;
		int64_t margin = life > 240 * PGA_USEC_PER_SEC ? 60 * PGA_USEC_PER_SEC : life / 4;

		tok->renew_at_us = pga_mono_us() + life - margin;
		log_debug("%s: new access token, valid %lld s", g->s3.what, (long long)expires_in);
	}
out:
	if (body != NULL)
		explicit_bzero(body, sizeof(grant) + GCS_JWT_MAX);
	if (rs != NULL)
		explicit_bzero(rs->body, sizeof(rs->body));
	free(body);
	free(rs);
	return rc;
}

static int
gcs_bearer(struct s3_dest *d, char *buf, size_t cap, struct pga_err *err)
{
	struct gcs_dest *g = (struct gcs_dest *)d;
	struct token_slot *t = g->tok;
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	if (t->renew_at_us == 0 || pga_mono_us() >= t->renew_at_us) {
		explicit_bzero(t->token, sizeof(t->token));
		t->renew_at_us = 0;
		rc = fetch_token(g, t, err);
	}
	if (rc == 0 && strlcpy(buf, t->token, cap) >= cap)
		rc = pga_fail(err, PGA_EINVAL, "%s: access token too long", d->what);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

static void
gcs_bearer_reset(struct s3_dest *d)
{
	struct gcs_dest *g = (struct gcs_dest *)d;

	pthread_mutex_lock(&g->tok->mu);
	g->tok->renew_at_us = 0;
	pthread_mutex_unlock(&g->tok->mu);
}

static int
gcs_validate(const struct pga_dest *cfg, struct pga_err *err)
{
	char bucket[256], prefix[1024];
	struct gcs_key *k = NULL;
	struct s3_creds c;
	int rc;

	rc = dest_url_split(cfg->url, bucket, sizeof(bucket), prefix, sizeof(prefix), err);
	if (rc == 0)
		rc = s3_check_bucket(bucket, err);
	if (rc == 0 && cfg->token_url != NULL && strncmp(cfg->token_url, "https://", 8) != 0 &&
	    strncmp(cfg->token_url, "http://", 7) != 0)
		rc = pga_fail(err, PGA_EINVAL, "token-url '%s' is not an http(s) url", cfg->token_url);
	if (rc == 0 && cfg->key_file != NULL) {
		rc = gcs_key_load(&k, cfg->key_file, err);
		gcs_key_free(k);
	} else if (rc == 0) {
		rc = s3_resolve_creds(cfg, &c, err);
		explicit_bzero(&c, sizeof(c));
	}
	return rc;
}

static void
gcs_close(struct dest *dd)
{
	struct gcs_dest *g = (struct gcs_dest *)dd;

	gcs_key_free(g->key);
	s3_teardown(&g->s3);
	free(g);
}

static int
gcs_open(struct dest **out, const struct pga_dest *cfg, struct pga_err *err)
{
	struct gcs_dest *g = calloc(1, sizeof(*g));
	struct s3_dest *d = &g->s3;
	int rc = 0;

	*out = NULL;
	if (g == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	strlcpy(d->region, strcmp(cfg->region, "us-east-1") == 0 ? "auto" : cfg->region,
		sizeof(d->region));
	if (cfg->key_file != NULL) {
		rc = gcs_key_load(&g->key, cfg->key_file, err);
		if (rc == 0)
			strlcpy(g->token_url, cfg->token_url ? cfg->token_url : gcs_key_token_uri(g->key),
				sizeof(g->token_url));
		g->tok = token_slot_for(cfg->name);
		if (rc == 0 && g->tok == NULL)
			rc = pga_fail(err, PGA_EINVAL, "too many gcs destinations");
		d->bearer = gcs_bearer;
		d->bearer_reset = gcs_bearer_reset;
	} else {
		rc = s3_resolve_creds(cfg, &d->creds, err);
	}
	/* GCS accepts path-style everywhere: dotted bucket names just work */
	if (rc == 0)
		rc = s3_setup(d, cfg, &gcs_flavour, GCS_ENDPOINT, true, err);
	if (rc < 0) {
		gcs_close(&d->base);
		return rc;
	}
	*out = &d->base;
	return 0;
}

const struct dest_ops dest_gcs_ops = {
	.scheme = "gs",
	.kind = "gcs",
	.validate = gcs_validate,
	.open = gcs_open,
	.put = s3_put,
	.head = s3_head,
	.list = s3_list,
	.get = s3_get,
	.check = s3_check,
	.close = gcs_close,
};
