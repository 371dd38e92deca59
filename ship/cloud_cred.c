/* Workload identity: which source applies, and asking it; see cloud_cred.h. */
#define _GNU_SOURCE
#include "ship/cloud_cred.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bsd/string.h>
#include <curl/curl.h>

#include "common/config.h"
#include "common/fsutil.h"
#include "common/units.h"
#include "ship/xml_tag.h"
#include "ship/json_field.h"

#define AWS_IMDS_DEFAULT "http://169.254.169.254"
#define AWS_ECS_HOST "http://169.254.170.2"
#define AWS_STS_DEFAULT "https://sts.amazonaws.com"
#define AZURE_IMDS_DEFAULT "http://169.254.169.254"
#define GCE_METADATA_DEFAULT "metadata.google.internal"
#define AZURE_STORAGE_RESOURCE "https%3A%2F%2Fstorage.azure.com%2F"
#define IMDS_TOKEN_TTL "21600"
#define WEB_TOKEN_MAX 16384		/* a Kubernetes service-account JWT */
#define URL_MAX 2048
#define DMI_DIR "/sys/class/dmi/id"

static const char *const source_names[] = {
	"static keys", "web identity", "container credentials", "ec2 instance metadata",
	"azure managed identity", "app service identity", "gce metadata server",
};

const char *
cloud_source_name(enum cloud_source src)
{
	return (unsigned)src < sizeof(source_names) / sizeof(source_names[0]) ?
	       source_names[src] : "?";
}

/* ---- which source ---- */

static bool
env_set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0';
}

static bool
env_true(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* The DMI file's text contains needle (prefix: starts with it). */
static bool
dmi_says(const char *file, const char *needle, bool prefix)
{
	char path[256], buf[256];
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", DMI_DIR, file);
	if (pga_read_small_file(path, buf, sizeof(buf), &len, NULL) < 0)
		return false;
	return prefix ? strncmp(buf, needle, strlen(needle)) == 0 : strstr(buf, needle) != NULL;
}

/* Does the instance metadata source apply under auto? */
static bool
instance_applies(enum cloud_source src)
{
	switch (src) {
	case CLOUD_AWS_IMDS:
		return !env_true("AWS_EC2_METADATA_DISABLED") &&
		       (env_set("AWS_EC2_METADATA_SERVICE_ENDPOINT") ||
			dmi_says("sys_vendor", "Amazon EC2", false) ||
			dmi_says("board_asset_tag", "i-", true));
	case CLOUD_GCE_METADATA:
		return env_set("GCE_METADATA_HOST") ||
		       (!env_true("NO_GCE_CHECK") && dmi_says("product_name", "Google", true));
	case CLOUD_AZURE_IMDS:
		/* the asset tag every Azure VM carries */
		return env_set("AZURE_POD_IDENTITY_AUTHORITY_HOST") ||
		       dmi_says("chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77", true);
	default:
		return false;
	}
}

static bool
web_identity_env(void)
{
	return env_set("AWS_WEB_IDENTITY_TOKEN_FILE") && env_set("AWS_ROLE_ARN");
}

static bool
container_env(void)
{
	return env_set("AWS_CONTAINER_CREDENTIALS_FULL_URI") ||
	       env_set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
}

static bool
app_service_env(void)
{
	return env_set("IDENTITY_ENDPOINT") && env_set("IDENTITY_HEADER");
}

static enum cloud_source
pick_auto(const char *kind, const struct cloud_static *st)
{
	if (st->keys)
		return CLOUD_STATIC;
	if (strcmp(kind, "s3") == 0) {
		if (web_identity_env())
			return CLOUD_WEB_IDENTITY;
		if (st->file)
			return CLOUD_STATIC;
		if (container_env())
			return CLOUD_CONTAINER;
		return instance_applies(CLOUD_AWS_IMDS) ? CLOUD_AWS_IMDS : CLOUD_STATIC;
	}
	if (strcmp(kind, "gcs") == 0)
		return !st->file && instance_applies(CLOUD_GCE_METADATA) ?
		       CLOUD_GCE_METADATA : CLOUD_STATIC;
	if (app_service_env())
		return CLOUD_APP_SERVICE;
	return instance_applies(CLOUD_AZURE_IMDS) ? CLOUD_AZURE_IMDS : CLOUD_STATIC;
}

int
cloud_pick(const char *kind, int choice, const struct cloud_static *st,
	   enum cloud_source *out, struct pga_err *err)
{
	bool s3 = strcmp(kind, "s3") == 0, az = strcmp(kind, "azure") == 0;

	*out = CLOUD_STATIC;
	switch (choice) {
	case PGA_CRED_AUTO:
		*out = pick_auto(kind, st);
		return 0;
	case PGA_CRED_STATIC:
		return 0;
	case PGA_CRED_WEB_IDENTITY:
		if (!s3)
			return pga_fail(err, PGA_EINVAL, "credential-source web-identity is for s3 only");
		if (!web_identity_env())
			return pga_fail(err, PGA_EINVAL, "credential-source web-identity needs "
					"AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN");
		*out = CLOUD_WEB_IDENTITY;
		return 0;
	case PGA_CRED_CONTAINER:
		if (!s3)
			return pga_fail(err, PGA_EINVAL, "credential-source container is for s3 only");
		if (!container_env())
			return pga_fail(err, PGA_EINVAL, "credential-source container needs "
					"AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI");
		*out = CLOUD_CONTAINER;
		return 0;
	case PGA_CRED_APP_SERVICE:
		if (!az)
			return pga_fail(err, PGA_EINVAL, "credential-source app-service is for azure only");
		if (!app_service_env())
			return pga_fail(err, PGA_EINVAL, "credential-source app-service needs "
					"IDENTITY_ENDPOINT and IDENTITY_HEADER");
		*out = CLOUD_APP_SERVICE;
		return 0;
	case PGA_CRED_INSTANCE:
		*out = s3 ? CLOUD_AWS_IMDS : az ? CLOUD_AZURE_IMDS : CLOUD_GCE_METADATA;
		return 0;
	}
	return pga_fail(err, PGA_EINTERNAL, "unknown credential-source %d", choice);
}

/* ---- asking ---- */

/* Now, rounded up: an expiry in whole seconds then never gives a lifetime
 * longer than the real one (renewal stays before the expiry). */
static int64_t
now_ceil_s(void)
{
	return (pga_now_us() + 999999) / 1000000;
}

/* One request; the reply in *rs (malloc'ed, the caller wipes and frees). */
static int
ask(const struct cloud_ctx *ctx, const char *method, const char *url, const char *const *hdrs,
    size_t nhdrs, const char *body, struct http_response **rs, struct pga_err *err)
{
	struct http_request rq = {.method = method, .url = url, .headers = hdrs,
				  .nheaders = nhdrs, .cancel = ctx->cancel,
				  .cancel_ctx = ctx->cancel_ctx};

	*rs = malloc(sizeof(**rs));
	if (*rs == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	if (body != NULL) {
		rq.body = body;
		rq.body_len = strlen(body);
	}
	return http_do(ctx->http, &rq, *rs, err);
}

static void
drop_reply(struct http_response *rs)
{
	if (rs == NULL)
		return;
	explicit_bzero(rs, sizeof(*rs));
	free(rs);
}

/* A reply we cannot use: one line naming the source, the endpoint and why. */
static int
reply_error(const struct cloud_ctx *ctx, enum cloud_source src, const char *url,
	    const struct http_response *rs, struct pga_err *err)
{
	char where[512], code[128] = "", msg[256] = "", safe[300];
	long st = rs->status;
	int cls = (st == 408 || st == 429 || st >= 500) ? PGA_ENET : PGA_EREMOTE;

	http_url_for_log(url, where, sizeof(where));
	if (st >= 200 && st < 300)
		return pga_fail(err, PGA_EREMOTE, "%s: %s at '%s': reply longer than %d bytes",
				ctx->what, cloud_source_name(src), where, HTTP_BODY_MAX - 1);
	/* STS and S3-like XML, or an OAuth JSON error; never the request */
	if (xml_tag(rs->body, "Code", code, sizeof(code)) != NULL)
		xml_tag(rs->body, "Message", msg, sizeof(msg));
	else if (json_field_string(rs->body, rs->body_len, "error", code, sizeof(code), NULL) == 0)
		json_field_string(rs->body, rs->body_len, "error_description", msg, sizeof(msg), NULL);
	msg[strcspn(msg, "\r\n")] = '\0';
	pga_escape(msg, safe, sizeof(safe));
	return pga_fail(err, cls, "%s: %s at '%s': %ld%s%s%s%s", ctx->what, cloud_source_name(src),
			where, st, code[0] ? " " : "", code, safe[0] ? ": " : "", safe);
}

/* 2xx with the whole body, else the error. */
static int
check_reply(const struct cloud_ctx *ctx, enum cloud_source src, const char *url,
	    const struct http_response *rs, struct pga_err *err)
{
	if (rs->status >= 200 && rs->status < 300 && !rs->body_cut)
		return 0;
	return reply_error(ctx, src, url, rs, err);
}

/* A parser's complaint, prefixed with the source and endpoint. */
static int
parse_error(const struct cloud_ctx *ctx, enum cloud_source src, const char *url, int rc,
	    struct pga_err *err)
{
	char where[512];

	http_url_for_log(url, where, sizeof(where));
	pga_err_prefix(err, "%s: %s at '%s'", ctx->what, cloud_source_name(src), where);
	if (err != NULL)
		err->code = PGA_EREMOTE;
	return rc < 0 ? PGA_EREMOTE : rc;
}

static int
build_url(char *url, const char *base, const char *path, struct pga_err *err)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (snprintf(url, URL_MAX, "%.*s%s", (int)n, base, path) >= URL_MAX)
		return pga_fail(err, PGA_EINVAL, "metadata url '%s' is too long", base);
	return 0;
}

static int
url_encode(const char *in, char *out, size_t cap, struct pga_err *err)
{
	char *e = curl_easy_escape(NULL, in, 0);
	int rc = 0;

	if (e == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	if (strlcpy(out, e, cap) >= cap)
		rc = pga_fail(err, PGA_EINVAL, "value too long to send");
	explicit_bzero(e, strlen(e));
	curl_free(e);
	return rc;
}

/* -- AWS: EC2 instance metadata, IMDSv2 -- */

static int
aws_imds(const struct cloud_ctx *ctx, struct cloud_cred *c, struct pga_err *err)
{
	const char *base = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *put_hdr[] = {"X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL};
	char url[URL_MAX], tokhdr[1100], role[256];
	const char *get_hdr[] = {tokhdr};
	struct http_response *rs = NULL;
	int rc;

	if (base == NULL || base[0] == '\0')
		base = AWS_IMDS_DEFAULT;
	rc = build_url(url, base, "/latest/api/token", err);
	if (rc == 0)
		rc = ask(ctx, "PUT", url, put_hdr, 1, "", &rs, err);
	if (rc == 0)
		rc = check_reply(ctx, CLOUD_AWS_IMDS, url, rs, err);
	if (rc == 0 && (rs->body_len == 0 || rs->body_len > 1000 || strpbrk(rs->body, "\r\n")))
		rc = parse_error(ctx, CLOUD_AWS_IMDS, url,
				 pga_fail(err, PGA_EREMOTE, "not a session token"), err);
	if (rc == 0)
		snprintf(tokhdr, sizeof(tokhdr), "X-aws-ec2-metadata-token: %s", rs->body);
	drop_reply(rs);
	rs = NULL;
	/* the role attached to the instance: the first line of the listing */
	if (rc == 0)
		rc = build_url(url, base, "/latest/meta-data/iam/security-credentials/", err);
	if (rc == 0)
		rc = ask(ctx, "GET", url, get_hdr, 1, NULL, &rs, err);
	if (rc == 0)
		rc = check_reply(ctx, CLOUD_AWS_IMDS, url, rs, err);
	if (rc == 0) {
		rs->body[strcspn(rs->body, "\r\n")] = '\0';
		if (rs->body[0] == '\0' || strlen(rs->body) >= sizeof(role) ||
		    strspn(rs->body, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789+=,.@_-") != strlen(rs->body))
			rc = parse_error(ctx, CLOUD_AWS_IMDS, url,
					 pga_fail(err, PGA_EREMOTE, "no valid role name "
						  "(is an instance profile attached?)"), err);
		else
			strlcpy(role, rs->body, sizeof(role));
	}
	drop_reply(rs);
	rs = NULL;
	if (rc == 0 && strlcat(url, role, sizeof(url)) >= sizeof(url))
		rc = pga_fail(err, PGA_EINVAL, "role name too long");
	if (rc == 0)
		rc = ask(ctx, "GET", url, get_hdr, 1, NULL, &rs, err);
	if (rc == 0)
		rc = check_reply(ctx, CLOUD_AWS_IMDS, url, rs, err);
	if (rc == 0 && (rc = cloud_parse_aws_json(rs->body, rs->body_len, now_ceil_s(),
						  c, err)) < 0)
		rc = parse_error(ctx, CLOUD_AWS_IMDS, url, rc, err);
	drop_reply(rs);
	explicit_bzero(tokhdr, sizeof(tokhdr));
	return rc;
}

/* -- AWS: container credentials (ECS, EKS Pod Identity) -- */

/* Plain http only to a loopback or the ECS/EKS link-local agents, as the SDKs allow. */
static bool
container_host_ok(const char *url)
{
	static const char *const ok[] = {
		"http://localhost", "http://[::1]", "http://169.254.170.2", "http://169.254.170.23",
		"http://[fd00:ec2::23]",
	};
	const char *host = url + 7;
	size_t n;

	if (strncasecmp(url, "https://", 8) == 0)
		return true;
	if (strncasecmp(url, "http://", 7) != 0)
		return false;
	n = strcspn(host, ":/?#");
	/* 127.0.0.0/8 written as digits and dots, nothing more */
	if (n > 4 && strncmp(host, "127.", 4) == 0 && strspn(host, "0123456789.") == n)
		return true;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strlen(ok[i]) - 7 == n && strncasecmp(url, ok[i], strlen(ok[i])) == 0)
			return true;
	return false;
}

static int
container_auth(char *hdr, size_t cap, struct pga_err *err)
{
	const char *tok = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	const char *file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	char buf[4096];
	size_t len = 0;
	int rc = 0;

	hdr[0] = '\0';
	if (file != NULL && file[0] != '\0') {
		rc = pga_read_small_file(file, buf, sizeof(buf), &len, err);
		if (rc < 0) {
			pga_err_prefix(err, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
			return rc;
		}
		buf[strcspn(buf, "\r\n")] = '\0';
		tok = buf;
	}
	if (tok != NULL && tok[0] != '\0') {
		if (strpbrk(tok, "\r\n") != NULL)
			rc = pga_fail(err, PGA_EINVAL, "AWS_CONTAINER_AUTHORIZATION_TOKEN has a line break");
		else if ((size_t)snprintf(hdr, cap, "Authorization: %s", tok) >= cap)
			rc = pga_fail(err, PGA_EINVAL, "the container authorization token is too long");
	}
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

static int
aws_container(const struct cloud_ctx *ctx, struct cloud_cred *c, struct pga_err *err)
{
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	char url[URL_MAX], auth[4200];
	const char *hdrs[] = {auth};
	struct http_response *rs = NULL;
	int rc = 0;

	/* the relative uri wins, as in the SDKs: it is the ECS agent's own */
	if (rel != NULL && rel[0] != '\0')
		rc = build_url(url, AWS_ECS_HOST, rel, err);
	else if (full == NULL || strlcpy(url, full, sizeof(url)) >= sizeof(url))
		rc = pga_fail(err, PGA_EINVAL, "AWS_CONTAINER_CREDENTIALS_FULL_URI is missing or too long");
	if (rc == 0 && !container_host_ok(url))
		rc = pga_fail(err, PGA_EINVAL, "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s' must be https, "
			      "or http to a loopback address or the ECS/EKS agent", full);
	if (rc == 0)
		rc = container_auth(auth, sizeof(auth), err);
	if (rc == 0)
		rc = ask(ctx, "GET", url, hdrs, auth[0] ? 1 : 0, NULL, &rs, err);
	if (rc == 0)
		rc = check_reply(ctx, CLOUD_CONTAINER, url, rs, err);
	if (rc == 0 && (rc = cloud_parse_aws_json(rs->body, rs->body_len, now_ceil_s(),
						  c, err)) < 0)
		rc = parse_error(ctx, CLOUD_CONTAINER, url, rc, err);
	drop_reply(rs);
	explicit_bzero(auth, sizeof(auth));
	return rc;
}

/* -- AWS: STS AssumeRoleWithWebIdentity -- */

static int
web_identity_body(char *body, size_t cap, struct pga_err *err)
{
	const char *file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *arn = getenv("AWS_ROLE_ARN"), *session = getenv("AWS_ROLE_SESSION_NAME");
	char *jwt = malloc(WEB_TOKEN_MAX), *jwt_enc = malloc(3 * WEB_TOKEN_MAX);
	char arn_enc[1024], sess_enc[256], dflt[64];
	size_t len = 0;
	int rc = 0;

	if (jwt == NULL || jwt_enc == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
		goto out;
	}
	/* the orchestrator writes and rotates this file (Kubernetes projects it
	 * 0644 by default): read as the SDKs do, without the 0600 rule */
	rc = pga_read_small_file(file, jwt, WEB_TOKEN_MAX, &len, err);
	if (rc < 0) {
		pga_err_prefix(err, "AWS_WEB_IDENTITY_TOKEN_FILE");
		goto out;
	}
	jwt[strcspn(jwt, "\r\n")] = '\0';
	if (jwt[0] == '\0') {
		rc = pga_fail(err, PGA_EINVAL, "web identity token file '%s' is empty", file);
		goto out;
	}
	if (session == NULL || session[0] == '\0') {
		snprintf(dflt, sizeof(dflt), "pga-%lld", (long long)(pga_now_us() / 1000));
		session = dflt;
	}
	rc = url_encode(jwt, jwt_enc, 3 * WEB_TOKEN_MAX, err);
	if (rc == 0)
		rc = url_encode(arn, arn_enc, sizeof(arn_enc), err);
	if (rc == 0)
		rc = url_encode(session, sess_enc, sizeof(sess_enc), err);
	if (rc == 0 && (size_t)snprintf(body, cap, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
					"&RoleArn=%s&RoleSessionName=%s&WebIdentityToken=%s",
					arn_enc, sess_enc, jwt_enc) >= cap)
		rc = pga_fail(err, PGA_EINVAL, "web identity request too long");
out:
	if (jwt != NULL)
		explicit_bzero(jwt, WEB_TOKEN_MAX);
	if (jwt_enc != NULL)
		explicit_bzero(jwt_enc, 3 * WEB_TOKEN_MAX);
	free(jwt);
	free(jwt_enc);
	return rc;
}

static int
aws_web_identity(const struct cloud_ctx *ctx, struct cloud_cred *c, struct pga_err *err)
{
	const char *base = getenv("AWS_ENDPOINT_URL_STS");
	const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8",
			      "Accept: application/xml"};
	size_t cap = 4 * WEB_TOKEN_MAX;
	char *body = malloc(cap), url[URL_MAX];
	struct http_response *rs = NULL;
	int rc;

	if (body == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	if (base == NULL || base[0] == '\0')
		base = AWS_STS_DEFAULT;
	rc = build_url(url, base, "/", err);
	if (rc == 0)
		rc = web_identity_body(body, cap, err);
	if (rc == 0)
		rc = ask(ctx, "POST", url, hdrs, 2, body, &rs, err);
	if (rc == 0)
		rc = check_reply(ctx, CLOUD_WEB_IDENTITY, url, rs, err);
	if (rc == 0 && (rc = cloud_parse_sts_xml(rs->body, now_ceil_s(), c, err)) < 0)
		rc = parse_error(ctx, CLOUD_WEB_IDENTITY, url, rc, err);
	drop_reply(rs);
	explicit_bzero(body, cap);
	free(body);
	return rc;
}

/* -- bearer tokens: Azure IMDS, App Service, GCE metadata -- */

static int
bearer(const struct cloud_ctx *ctx, enum cloud_source src, const char *url,
       const char *const *hdrs, size_t n, struct cloud_cred *c, struct pga_err *err)
{
	struct http_response *rs = NULL;
	int rc = ask(ctx, "GET", url, hdrs, n, NULL, &rs, err);

	if (rc == 0)
		rc = check_reply(ctx, src, url, rs, err);
	if (rc == 0 && (rc = cloud_parse_bearer_json(rs->body, rs->body_len,
						     now_ceil_s(), c, err)) < 0)
		rc = parse_error(ctx, src, url, rc, err);
	drop_reply(rs);
	return rc;
}

static int
azure_imds(const struct cloud_ctx *ctx, struct cloud_cred *c, struct pga_err *err)
{
	const char *base = getenv("AZURE_POD_IDENTITY_AUTHORITY_HOST");
	const char *client = getenv("AZURE_CLIENT_ID");
	const char *hdrs[] = {"Metadata: true"};
	char url[URL_MAX], path[512], enc[256] = "";
	int rc = 0;

	if (base == NULL || base[0] == '\0')
		base = AZURE_IMDS_DEFAULT;
	if (client != NULL && client[0] != '\0')
		rc = url_encode(client, enc, sizeof(enc), err);
	snprintf(path, sizeof(path), "/metadata/identity/oauth2/token?api-version=2018-02-01"
		 "&resource=%s%s%s", AZURE_STORAGE_RESOURCE, enc[0] ? "&client_id=" : "", enc);
	if (rc == 0)
		rc = build_url(url, base, path, err);
	return rc == 0 ? bearer(ctx, CLOUD_AZURE_IMDS, url, hdrs, 1, c, err) : rc;
}

static int
app_service(const struct cloud_ctx *ctx, struct cloud_cred *c, struct pga_err *err)
{
	const char *ep = getenv("IDENTITY_ENDPOINT"), *secret = getenv("IDENTITY_HEADER");
	const char *client = getenv("AZURE_CLIENT_ID");
	char url[URL_MAX], hdr[1100], enc[256] = "";
	const char *hdrs[] = {hdr};
	int rc = 0;

	if (strpbrk(secret, "\r\n") != NULL ||
	    (size_t)snprintf(hdr, sizeof(hdr), "X-IDENTITY-HEADER: %s", secret) >= sizeof(hdr))
		rc = pga_fail(err, PGA_EINVAL, "IDENTITY_HEADER is too long or has a line break");
	if (rc == 0 && client != NULL && client[0] != '\0')
		rc = url_encode(client, enc, sizeof(enc), err);
	if (rc == 0 && (size_t)snprintf(url, sizeof(url), "%s%sapi-version=2019-08-01&resource=%s%s%s", ep,
					strchr(ep, '?') ? "&" : "?", AZURE_STORAGE_RESOURCE, enc[0] ? "&client_id=" : "",
					enc) >= sizeof(url))
		rc = pga_fail(err, PGA_EINVAL, "IDENTITY_ENDPOINT is too long");
	if (rc == 0)
		rc = bearer(ctx, CLOUD_APP_SERVICE, url, hdrs, 1, c, err);
	explicit_bzero(hdr, sizeof(hdr));
	return rc;
}

static int
gce_metadata(const struct cloud_ctx *ctx, struct cloud_cred *c, struct pga_err *err)
{
	const char *host = getenv("GCE_METADATA_HOST");
	const char *hdrs[] = {"Metadata-Flavor: Google"};
	char url[URL_MAX];

	if (host == NULL || host[0] == '\0')
		host = GCE_METADATA_DEFAULT;
	/* GCE_METADATA_HOST is host[:port], no scheme, as Google's libraries read it */
	if (strstr(host, "://") != NULL || strpbrk(host, "/?#@ ") != NULL)
		return pga_fail(err, PGA_EINVAL, "GCE_METADATA_HOST '%s' must be host[:port]", host);
	if ((size_t)snprintf(url, sizeof(url), "http://%s/computeMetadata/v1/instance/"
			     "service-accounts/default/token", host) >= sizeof(url))
		return pga_fail(err, PGA_EINVAL, "GCE_METADATA_HOST is too long");
	return bearer(ctx, CLOUD_GCE_METADATA, url, hdrs, 1, c, err);
}

int
cloud_fetch(enum cloud_source src, const struct cloud_ctx *ctx, struct cloud_cred *c,
	    struct pga_err *err)
{
	int rc;

	memset(c, 0, sizeof(*c));
	switch (src) {
	case CLOUD_WEB_IDENTITY:
		rc = aws_web_identity(ctx, c, err);
		break;
	case CLOUD_CONTAINER:
		rc = aws_container(ctx, c, err);
		break;
	case CLOUD_AWS_IMDS:
		rc = aws_imds(ctx, c, err);
		break;
	case CLOUD_AZURE_IMDS:
		rc = azure_imds(ctx, c, err);
		break;
	case CLOUD_APP_SERVICE:
		rc = app_service(ctx, c, err);
		break;
	case CLOUD_GCE_METADATA:
		rc = gce_metadata(ctx, c, err);
		break;
	default:
		return pga_fail(err, PGA_EINTERNAL, "%s: no source to fetch credentials from",
				ctx->what);
	}
	if (rc < 0)
		explicit_bzero(c, sizeof(*c));
	return rc;
}
