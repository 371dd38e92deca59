/*
 * dest_azure.c - azure://account/container/prefix: Azure Blob Storage
 *
 * Put Blob (BlockBlob, one request up to 5000 MiB) with If-None-Match: *
 * (create-only: 409 BlobAlreadyExists or 412 is compared with Get Blob
 * Properties), Content-MD5 (the service verifies the body against it) and
 * x-ms-meta-sha256.  Authentication: Shared Key (account-key, or
 * AZURE_STORAGE_KEY) or a SAS token (sas-token, or AZURE_STORAGE_SAS_TOKEN)
 * appended to the query; SAS urls are never logged with their query.
 * endpoint replaces https://ACCOUNT.blob.core.windows.net, e.g.
 * http://127.0.0.1:10000/devstoreaccount1 for azurite (path-style: the
 * account is then in the path, and in the signed resource twice).
 * storage-class sets the access tier (Hot, Cool, Cold, Archive).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <curl/curl.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/units.h"
#include "ship/azure_auth.h"
#include "ship/base64.h"
#include "ship/dest_int.h"
#include "ship/http.h"
#include "ship/sigv4.h"
#include "ship/store_util.h"

#define AZ_VERSION "2021-08-06"
#define AZ_MAX_HEADERS 16
#define AZ_HDR_ARENA 8192
#define AZ_LIST_MAX (16u << 20)
#define AZ_MAX_BLOB (5000ull << 20)

struct az_dest {
	struct dest base;
	char what[PGA_NAME_MAX + 16];
	struct http_client *http;
	char account[128];
	char container[128];
	char prefix[1024];
	char origin[512];		/* scheme://host[:port] */
	char base_path[512];		/* endpoint path + "/" + container */
	char key[256];			/* account key (base64), or empty */
	char sas[2048];			/* SAS query, or empty */
	char tier[32];
};

static struct az_dest *
to_az(struct dest *d)
{
	return (struct az_dest *)d;
}

/* ---- set-up ---- */

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

static int
az_validate(const struct pga_dest *cfg, struct pga_err *err)
{
	char account[128], container[128], prefix[1024];
	const char *key = env_or(cfg->account_key, "AZURE_STORAGE_KEY");
	const char *sas = env_or(cfg->sas_token, "AZURE_STORAGE_SAS_TOKEN");
	uint8_t raw[128];
	int rc = split_url(cfg->url, account, sizeof(account), container, sizeof(container),
			   prefix, sizeof(prefix), err);

	if (rc < 0)
		return rc;
	for (const char *c = container; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return pga_fail(err, PGA_EINVAL, "container name '%s' may only hold a-z, 0-9 and '-'",
					container);
	if ((key == NULL || *key == '\0') && (sas == NULL || *sas == '\0'))
		return pga_fail(err, PGA_EINVAL,
				"no credentials: set account-key or sas-token (or AZURE_STORAGE_KEY)");
	if (key != NULL && *key != '\0' && base64_decode(key, raw, sizeof(raw)) <= 0) {
		explicit_bzero(raw, sizeof(raw));
		return pga_fail(err, PGA_EINVAL, "account-key is not valid base64");
	}
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

static int
parse_endpoint(struct az_dest *d, const struct pga_dest *cfg, struct pga_err *err)
{
	char dflt[300];
	const char *ep = cfg->endpoint;
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int rc = 0;

	if (ep == NULL) {
		snprintf(dflt, sizeof(dflt), "https://%s.blob.core.windows.net", d->account);
		ep = dflt;
	}
	if (u == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, ep, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = pga_fail(err, PGA_EINVAL, "endpoint '%s' is not a valid url", ep);
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	if (path != NULL) {
		size_t n = strlen(path);

		while (n > 0 && path[n - 1] == '/')
			path[--n] = '\0';
	}
	snprintf(d->origin, sizeof(d->origin), "%s://%s%s%s", scheme, host, port ? ":" : "",
		 port ? port : "");
	snprintf(d->base_path, sizeof(d->base_path), "%s/%s", path ? path : "", d->container);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

static void
az_close(struct dest *dd)
{
	struct az_dest *d = to_az(dd);

	http_client_free(d->http);
	explicit_bzero(d->key, sizeof(d->key));
	explicit_bzero(d->sas, sizeof(d->sas));
	free(d);
}

static int
az_open(struct dest **out, const struct pga_dest *cfg, struct pga_err *err)
{
	struct az_dest *d = calloc(1, sizeof(*d));
	const char *key = env_or(cfg->account_key, "AZURE_STORAGE_KEY");
	const char *sas = env_or(cfg->sas_token, "AZURE_STORAGE_SAS_TOKEN");
	struct http_config hc = {0};
	int rc;

	*out = NULL;
	if (d == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	dest_what(cfg, d->what, sizeof(d->what));
	rc = split_url(cfg->url, d->account, sizeof(d->account), d->container,
		       sizeof(d->container), d->prefix, sizeof(d->prefix), err);
	if (rc == 0 && key != NULL && *key != '\0')
		strlcpy(d->key, key, sizeof(d->key));
	else if (rc == 0 && sas != NULL)
		strlcpy(d->sas, sas[0] == '?' ? sas + 1 : sas, sizeof(d->sas));
	if (cfg->storage_class != NULL)
		strlcpy(d->tier, cfg->storage_class, sizeof(d->tier));
	if (rc == 0)
		rc = parse_endpoint(d, cfg, err);
	hc.ca_file = cfg->ca_file;
	hc.timeout_us = cfg->timeout;
	hc.what = d->what;
	if (rc == 0)
		rc = http_client_new(&d->http, &hc, err);
	if (rc < 0) {
		az_close(&d->base);
		return rc;
	}
	*out = &d->base;
	return 0;
}

/* ---- requests ---- */

struct az_hdrs {
	const char *lines[AZ_MAX_HEADERS];
	size_t n;
	struct sign_header sig[AZ_MAX_HEADERS];
	size_t nsig;
	char arena[AZ_HDR_ARENA];
	size_t used;
	bool overflow;
};

/* wire: also sent by us (false: curl sends it itself, e.g. Content-Length). */
static void
hdr(struct az_hdrs *h, const char *name, const char *value, bool wire)
{
	size_t nl = strlen(name), need = nl + strlen(value) + 3;
	char *line = h->arena + h->used;

	if (h->nsig == AZ_MAX_HEADERS || h->used + need > sizeof(h->arena)) {
		h->overflow = true;
		return;
	}
	snprintf(line, need, "%s: %s", name, value);
	h->used += need;
	if (wire)
		h->lines[h->n++] = line;
	line[nl] = '\0';	/* split "name\0 value" for the signer */
	h->sig[h->nsig].name = line;
	h->sig[h->nsig++].value = line + nl + 2;
}

static void
fix_wire_lines(struct az_hdrs *h)
{
	for (size_t i = 0; i < h->n; i++)
		((char *)h->lines[i])[strlen(h->lines[i])] = ':';
}

static int
blob_path(struct az_dest *d, const char *name, char *path, size_t cap, struct pga_err *err)
{
	if (name == NULL)
		return pga_path(path, cap, err, "%s", d->base_path);
	return store_object_path(d->base_path, d->prefix, name, d->what, path, cap, err);
}

static int
az_send(struct az_dest *d, struct az_hdrs *h, const char *path, const char *query,
	struct http_request *rq, struct http_response *rs, struct pga_err *err)
{
	char url[12288], date[64], sig[AZURE_AUTH_MAX], auth[AZURE_AUTH_MAX + 32], q[10240];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	hdr(h, "x-ms-date", date, true);
	hdr(h, "x-ms-version", AZ_VERSION, true);
	if (h->overflow)
		return pga_fail(err, PGA_EINVAL, "%s: request headers too long", d->what);
	snprintf(q, sizeof(q), "%s%s%s", query ? query : "",
		 query && *query && d->sas[0] ? "&" : "", d->sas);
	auth[0] = '\0';
	if (d->key[0]) {
		struct azure_request ar = {rq->method, d->account, path, query, h->sig, h->nsig};

		rc = azure_sharedkey_sign(&ar, d->key, NULL, 0, sig, sizeof(sig), err);
		if (rc < 0)
			return rc;
		snprintf(auth, sizeof(auth), "Authorization: %s", sig);
		explicit_bzero(sig, sizeof(sig));
	}
	fix_wire_lines(h);
	if (auth[0])
		h->lines[h->n++] = auth;
	rc = pga_path(url, sizeof(url), err, "%s%s%s%s", d->origin, path, q[0] ? "?" : "", q);
	explicit_bzero(q, sizeof(q));
	if (rc < 0)
		return rc;
	rq->url = url;
	rq->headers = h->lines;
	rq->nheaders = h->n;
	rq->rl = d->base.rl;
	rq->cancel = d->base.cancel;
	rq->cancel_ctx = d->base.cancel_ctx;
	rc = http_do(d->http, rq, rs, err);
	explicit_bzero(url, sizeof(url));
	explicit_bzero(auth, sizeof(auth));
	return rc;
}

/* Get Blob Properties: 1 with seen filled, 0 absent. */
static int
head_seen(struct az_dest *d, const char *name, struct store_seen *seen, struct pga_err *err)
{
	struct az_hdrs h = {0};
	struct http_request rq = {.method = "HEAD"};
	struct http_response *rs = malloc(sizeof(*rs));
	char path[8192], v[256];
	int rc;

	if (rs == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	memset(seen, 0, sizeof(*seen));
	rc = blob_path(d, name, path, sizeof(path), err);
	if (rc == 0)
		rc = az_send(d, &h, path, NULL, &rq, rs, err);
	if (rc == 0 && rs->status == 404)
		goto out;
	if (rc == 0 && rs->status != 200)
		rc = store_http_error(err, d->what, "HEAD", name, rs);
	if (rc < 0)
		goto out;
	if (http_header(rs, "content-length", v, sizeof(v)) != NULL)
		seen->obj.size = strtoull(v, NULL, 10);
	if (http_header(rs, "x-ms-meta-sha256", v, sizeof(v)) != NULL && strlen(v) == 64 &&
	    pga_unhex(v, seen->obj.sha256, PGA_SHA256_LEN) == 0)
		seen->obj.have_sha256 = true;
	if (http_header(rs, "content-md5", v, sizeof(v)) != NULL)
		store_md5_from_b64(v, seen);
	rc = 1;
out:
	free(rs);
	return rc;
}

static int
az_head(struct dest *dd, const char *name, struct dest_object *obj, struct pga_err *err)
{
	struct store_seen seen;
	int rc = head_seen(to_az(dd), name, &seen, err);

	if (rc == 1)
		*obj = seen.obj;
	return rc;
}

static int
az_put(struct dest *dd, const struct dest_upload *up, struct pga_err *err)
{
	struct az_dest *d = to_az(dd);
	struct az_hdrs h = {0};
	struct http_request rq = {.method = "PUT", .body_from_fd = true, .body_len = up->size};
	struct http_response *rs = NULL;
	char path[8192], sha_hex[PGA_SHA256_HEX], md5_b64[32], len[32];
	struct store_seen seen;
	int rc;

	if (up->size > AZ_MAX_BLOB)
		return pga_fail(err, PGA_EREMOTE, "%s: '%s' is larger than one Put Blob allows",
				d->what, up->name);
	rc = blob_path(d, up->name, path, sizeof(path), err);
	if (rc < 0)
		return rc;
	rq.body_fd = open(up->path, O_RDONLY | O_CLOEXEC);
	if (rq.body_fd < 0)
		return pga_fail(err, errno == ENOENT ? PGA_ENOTFOUND : PGA_EIO,
				"could not open '%s': %m", up->path);
	rs = malloc(sizeof(*rs));
	if (rs == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
		goto out;
	}
	pga_hex(up->sha256, PGA_SHA256_LEN, sha_hex);
	base64_encode(up->md5, sizeof(up->md5), md5_b64, sizeof(md5_b64));
	snprintf(len, sizeof(len), "%" PRIu64, up->size);
	hdr(&h, "Content-Length", len, false);
	hdr(&h, "Content-MD5", md5_b64, true);
	hdr(&h, "Content-Type", "application/octet-stream", true);
	hdr(&h, "If-None-Match", "*", true);
	hdr(&h, "x-ms-blob-type", "BlockBlob", true);
	hdr(&h, "x-ms-meta-sha256", sha_hex, true);
	if (d->tier[0])
		hdr(&h, "x-ms-access-tier", d->tier, true);
	rc = az_send(d, &h, path, NULL, &rq, rs, err);
	if (rc == 0 && (rs->status == 409 || rs->status == 412)) {
		rc = head_seen(d, up->name, &seen, err);
		if (rc == 0)
			rc = pga_fail(err, PGA_ENET, "%s: PUT '%s' was refused as a conflict but the "
				      "blob is not there", d->what, up->name);
		else if (rc == 1)
			rc = store_compare(d->what, up->name, &seen, up, err);
	} else if (rc == 0 && rs->status != 201 && rs->status != 200) {
		rc = store_http_error(err, d->what, "PUT", up->name, rs);
	}
out:
	close(rq.body_fd);
	free(rs);
	return rc;
}

/* ---- list, get, check ---- */

static int
list_page(struct az_dest *d, const char *key_prefix, char *marker, size_t mcap,
	  const char *extra, dest_list_fn fn, void *ctx, struct pga_err *err)
{
	struct az_hdrs h = {0};
	struct store_buf body = {.max = AZ_LIST_MAX};
	struct http_request rq = {.method = "GET", .sink = store_buf_sink, .sink_ctx = &body};
	struct http_response *rs = malloc(sizeof(*rs));
	size_t plen = strlen(d->prefix);
	char query[8192], ep[4096], em[4096], path[1024], blob[4096], name[2048], size[32];
	const char *p;
	int rc;

	if (rs == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = sigv4_uri_encode(key_prefix, 0, ep, sizeof(ep), err);
	if (rc == 0)
		rc = sigv4_uri_encode(marker, 0, em, sizeof(em), err);
	if (rc == 0)
		rc = pga_path(query, sizeof(query), err, "comp=list%s%s%s&prefix=%s&restype=container",
			      marker[0] ? "&marker=" : "", marker[0] ? em : "",
			      extra ? extra : "", ep);
	if (rc == 0)
		rc = blob_path(d, NULL, path, sizeof(path), err);
	if (rc == 0)
		rc = az_send(d, &h, path, query, &rq, rs, err);
	if (rc == 0 && rs->status != 200)
		rc = store_http_error(err, d->what, "LIST", key_prefix[0] ? key_prefix : "/", rs);
	p = body.p ? body.p : "";
	while (rc == 0 && (p = store_xml_tag(p, "Blob", blob, sizeof(blob))) != NULL) {
		if (store_xml_tag(blob, "Name", name, sizeof(name)) == NULL ||
		    store_xml_tag(blob, "Content-Length", size, sizeof(size)) == NULL) {
			rc = pga_fail(err, PGA_EREMOTE, "%s: malformed listing", d->what);
			break;
		}
		if (strncmp(name, d->prefix, plen) == 0 &&
		    seg_name_parse(name + plen, NULL, 0, NULL, NULL) == 0)
			rc = fn(ctx, name + plen, strtoull(size, NULL, 10), err);
	}
	if (rc == 0 && (body.p == NULL ||
			store_xml_tag(body.p, "NextMarker", marker, mcap) == NULL))
		marker[0] = '\0';
	store_buf_free(&body);
	free(rs);
	return rc;
}

static int
az_list(struct dest *dd, const char *prefix, dest_list_fn fn, void *ctx, struct pga_err *err)
{
	struct az_dest *d = to_az(dd);
	char key_prefix[2048], marker[4096] = "";
	int rc = pga_path(key_prefix, sizeof(key_prefix), err, "%s%s", d->prefix,
			  prefix ? prefix : "");

	do {
		if (rc == 0)
			rc = list_page(d, key_prefix, marker, sizeof(marker), NULL, fn, ctx, err);
	} while (rc == 0 && marker[0] != '\0');
	return rc;
}

static int
az_get(struct dest *dd, const char *name,
       int (*sink)(void *ctx, const void *buf, size_t len, struct pga_err *err),
       void *ctx, struct pga_err *err)
{
	struct az_dest *d = to_az(dd);
	struct az_hdrs h = {0};
	struct http_request rq = {.method = "GET", .sink = sink, .sink_ctx = ctx};
	struct http_response *rs = malloc(sizeof(*rs));
	char path[8192];
	int rc;

	if (rs == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = blob_path(d, name, path, sizeof(path), err);
	if (rc == 0)
		rc = az_send(d, &h, path, NULL, &rq, rs, err);
	if (rc == 0 && rs->status == 404)
		rc = pga_fail(err, PGA_ENOTFOUND, "%s: blob '%s' does not exist", d->what, name);
	else if (rc == 0 && rs->status != 200)
		rc = store_http_error(err, d->what, "GET", name, rs);
	free(rs);
	return rc;
}

static int
az_check(struct dest *dd, struct pga_err *err)
{
	struct az_dest *d = to_az(dd);
	char marker[16] = "";

	return list_page(d, d->prefix, marker, sizeof(marker), "&maxresults=1", store_list_ignore,
			 NULL, err);
}

const struct dest_ops dest_azure_ops = {
	.scheme = "azure",
	.kind = "azure",
	.validate = az_validate,
	.open = az_open,
	.put = az_put,
	.head = az_head,
	.list = az_list,
	.get = az_get,
	.check = az_check,
	.close = az_close,
};
