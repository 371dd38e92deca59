/*
 * dest_azure.c - azure://account/container/prefix: Azure Blob Storage
 *
 * The requests, the put protocol and paging are the object-store layer's
 * (objstore.h); this file says how Azure signs and lists and names its
 * headers.  Put Blob (BlockBlob, one request up to 5000 MiB) with
 * If-None-Match: * (create-only: 409 BlobAlreadyExists or 412 is compared
 * with Get Blob Properties), Content-MD5 (the service verifies the body
 * against it) and x-ms-meta-sha256.  Authentication: Shared Key
 * (account-key, or AZURE_STORAGE_KEY) or a SAS token (sas-token, or
 * AZURE_STORAGE_SAS_TOKEN) appended to the query; SAS urls are never logged
 * with their query.  Without either, a managed identity (App Service's
 * IDENTITY_ENDPOINT or the IMDS token endpoint, ship/cloud_cred.h): an
 * OAuth token for https://storage.azure.com/ sent as Authorization: Bearer
 * (x-ms-version 2017-11-09 or later takes it; we send AZ_VERSION), one per
 * destination shared by the slots and renewed before it expires.  endpoint replaces https://ACCOUNT.blob.core.windows.net,
 * e.g. http://127.0.0.1:10000/devstoreaccount1 for azurite (path-style: the
 * account is then in the path, and in the signed resource twice).
 * storage-class sets the access tier (Hot, Cool, Cold, Archive).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>

#include "ship/azure_auth.h"
#include "ship/base64.h"
#include "ship/cloud_cred.h"
#include "ship/objstore.h"

#define AZ_VERSION "2021-08-06"

struct az_priv {
	char account[128];
	char key[256];			/* account key (base64), or empty */
	char sas[2048];			/* SAS query, or empty */
	enum cloud_source src;		/* not CLOUD_STATIC: a fetched bearer token */
};

static int
split_url(const char *url, char *account, size_t acap, char *container, size_t ccap,
	  char *prefix, size_t pcap, struct pga_err *err)
{
	char rest[1200];
	char *slash;
	int rc = dest_url_split(url, account, acap, rest, sizeof(rest), err);

	if (rc < 0)
		return rc;
	slash = strchr(rest, '/');
	if (rest[0] == '\0' || slash == NULL)
		return pga_fail(err, PGA_EINVAL, "url '%s' names no container (azure://account/container/prefix)", url);
	*slash = '\0';
	if (strlcpy(container, rest, ccap) >= ccap || strlcpy(prefix, slash + 1, pcap) >= pcap)
		return pga_fail(err, PGA_EINVAL, "url '%s' is too long", url);
	return 0;
}

static const char *
env_or(const char *v, const char *env)
{
	return v != NULL ? v : getenv(env);
}

/* The section's source: keys or SAS (static), else a managed identity. */
static int
az_pick(const struct pga_dest *cfg, enum cloud_source *src, struct pga_err *err)
{
	const char *key = env_or(cfg->account_key, "AZURE_STORAGE_KEY");
	const char *sas = env_or(cfg->sas_token, "AZURE_STORAGE_SAS_TOKEN");
	struct cloud_static st = {.keys = (key != NULL && *key) || (sas != NULL && *sas)};

	return cloud_pick("azure", cfg->credential_source, &st, src, err);
}

static int
az_fetch(struct objstore *o, struct cloud_cred *c, struct pga_err *err)
{
	struct az_priv *a = objstore_priv(o);
	struct cloud_ctx ctx = objstore_cloud_ctx(o);

	return cloud_fetch(a->src, &ctx, c, err);
}

static int
az_bearer(struct objstore *o, struct objstore_req *rq, struct pga_err *err)
{
	return objstore_bearer(o, rq, az_fetch, err);
}

static bool
az_unauthorized(struct objstore *o)
{
	struct az_priv *a = objstore_priv(o);

	if (a->src != CLOUD_STATIC)
		objstore_token_drop(o);
	return a->src != CLOUD_STATIC;
}

static int
az_sign(struct objstore *o, struct objstore_req *rq, struct pga_err *err)
{
	struct az_priv *a = objstore_priv(o);
	struct azure_request ar = {rq->method, a->account, rq->path, rq->query, rq->h->sig, 0};
	time_t now = (time_t)(rq->now_us / 1000000);
	char date[64], auth[AZURE_AUTH_MAX];
	struct tm tm;
	int rc;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	objstore_hdr(rq->h, OBJSTORE_BOTH, "", "x-ms-date", date);
	objstore_hdr(rq->h, OBJSTORE_BOTH, "", "x-ms-version", AZ_VERSION);
	if (a->src != CLOUD_STATIC)
		return az_bearer(o, rq, err);
	if (a->sas[0])
		rq->auth_query = a->sas;
	if (!a->key[0] || rq->h->full || rq->h->buf.fail != 0)
		return 0;	/* an overflow is reported by the layer, before sending */
	ar.nheaders = rq->h->nsig;
	rc = azure_sharedkey_sign(&ar, a->key, NULL, 0, auth, sizeof(auth), err);
	if (rc == 0)
		objstore_hdr(rq->h, OBJSTORE_WIRE, "", "Authorization", auth);
	explicit_bzero(auth, sizeof(auth));
	return rc;
}

static int
az_setup(struct objstore *o, const struct pga_dest *cfg, struct objstore_place *pl,
	 struct pga_err *err)
{
	struct az_priv *a = objstore_priv(o);
	const char *key = env_or(cfg->account_key, "AZURE_STORAGE_KEY");
	const char *sas = env_or(cfg->sas_token, "AZURE_STORAGE_SAS_TOKEN");
	int rc = split_url(cfg->url, a->account, sizeof(a->account), o->bucket,
			   sizeof(o->bucket), o->prefix, sizeof(o->prefix), err);

	if (rc == 0)
		rc = az_pick(cfg, &a->src, err);
	if (a->src != CLOUD_STATIC)
		;	/* a token is fetched with the first request */
	else if (key != NULL && *key != '\0')
		strlcpy(a->key, key, sizeof(a->key));
	else if (sas != NULL)
		strlcpy(a->sas, sas[0] == '?' ? sas + 1 : sas, sizeof(a->sas));
	snprintf(pl->endpoint, sizeof(pl->endpoint), "https://%s.blob.core.windows.net",
		 a->account);
	pl->virtual_host = false;
	return rc;
}

static const struct objstore_kind az_kind = {
	.noun = "blob", .max_object = 5000ull << 20, .max_text = "5000 MiB",
	.create_hdr = "If-None-Match", .create_val = "*",
	.meta_prefix = "x-ms-meta-", .class_hdr = "x-ms-access-tier",
	.put_hdr = "x-ms-blob-type", .put_val = "BlockBlob", .sign_length = true,
	.list = {.params = "comp=list&restype=container", .limit = "maxresults", .item = "Blob",
		 .name = "Name", .size = "Content-Length", .next = "NextMarker",
		 .dir_item = "BlobPrefix", .dir_name = "Name"},
	.priv_size = sizeof(struct az_priv), .setup = az_setup, .sign = az_sign,
	.unauthorized = az_unauthorized,
};

static int
az_validate(const struct pga_dest *cfg, struct pga_err *err)
{
	char account[128], container[128], prefix[1024];
	const char *key = env_or(cfg->account_key, "AZURE_STORAGE_KEY");
	const char *sas = env_or(cfg->sas_token, "AZURE_STORAGE_SAS_TOKEN");
	uint8_t raw[128];
	enum cloud_source src = CLOUD_STATIC;
	int rc = split_url(cfg->url, account, sizeof(account), container, sizeof(container),
			   prefix, sizeof(prefix), err);

	if (rc < 0)
		return rc;
	for (const char *c = container; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return pga_fail(err, PGA_EINVAL, "container name '%s' may only hold a-z, 0-9 and '-'",
					container);
	rc = az_pick(cfg, &src, err);
	if (rc < 0 || src != CLOUD_STATIC)
		return rc;
	if ((key == NULL || *key == '\0') && (sas == NULL || *sas == '\0'))
		return pga_fail(err, PGA_EINVAL,
				"no credentials: set account-key or sas-token (or AZURE_STORAGE_KEY), "
				"or a managed identity (see credential-source)");
	if (key != NULL && *key != '\0' && base64_decode(key, raw, sizeof(raw)) <= 0) {
		explicit_bzero(raw, sizeof(raw));
		return pga_fail(err, PGA_EINVAL, "account-key is not valid base64");
	}
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

static int
az_open(struct dest **out, const struct pga_dest *cfg, struct pga_err *err)
{
	return objstore_open(out, cfg, &az_kind, err);
}

const struct dest_ops dest_azure_ops = OBJSTORE_DEST_OPS("azure", &az_kind, az_validate, az_open);
