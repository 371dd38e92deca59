/*
 * cloud_cred.h - workload identity: credentials the platform hands out,
 * for object stores configured without static keys
 *
 * Which source a destination uses (cloud_pick), from the section's
 * credential-source (auto, static, web-identity, container, instance,
 * app-service) and the environment.  With auto, the first that applies, in
 * the order of the clouds' own SDKs:
 *   s3://   1. access-key-id/secret-access-key in the section
 *           2. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
 *           3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *              [+ AWS_ROLE_SESSION_NAME] -> STS AssumeRoleWithWebIdentity
 *              (AWS_ENDPOINT_URL_STS, default https://sts.amazonaws.com)
 *           4. the credentials file (credentials-file,
 *              AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials)
 *           5. container (ECS, EKS Pod Identity):
 *              AWS_CONTAINER_CREDENTIALS_FULL_URI, or http://169.254.170.2
 *              + AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, with the header
 *              Authorization: AWS_CONTAINER_AUTHORIZATION_TOKEN or the
 *              contents of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
 *           6. EC2 instance role through IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT,
 *              default http://169.254.169.254): PUT /latest/api/token, then
 *              GET /latest/meta-data/iam/security-credentials/[ROLE]
 *   gs://   1. key-file  2. HMAC keys as for s3:// 1, 2, 4
 *           3. the GCE/GKE metadata server (GCE_METADATA_HOST, default
 *              metadata.google.internal):
 *              /computeMetadata/v1/instance/service-accounts/default/token
 *   azure:// 1. account-key / AZURE_STORAGE_KEY  2. sas-token /
 *              AZURE_STORAGE_SAS_TOKEN
 *           3. App Service, Functions, Container Apps: IDENTITY_ENDPOINT +
 *              IDENTITY_HEADER
 *           4. managed identity through the IMDS token endpoint
 *              (AZURE_POD_IDENTITY_AUTHORITY_HOST, default
 *              http://169.254.169.254; AZURE_CLIENT_ID picks a user-assigned
 *              identity)
 * The instance metadata sources (the last of each list) apply under auto
 * only when their endpoint variable is set or the machine's DMI data names
 * the cloud (/sys/class/dmi/id: "Amazon EC2", "Google Compute Engine", an
 * Azure chassis asset tag); AWS_EC2_METADATA_DISABLED=true and
 * NO_GCE_CHECK=true turn that off.  Elsewhere a section without keys stays
 * the "no credentials" error at start, not a minute of timeouts.  An
 * explicit credential-source applies or fails on its own, never falls back.
 *
 * cloud_fetch() asks the source, with the destination's HTTP client (TLS
 * always verified; the metadata endpoints are plain http on link-local or
 * loopback addresses, as the clouds define them).  A container URI over
 * plain http must be a loopback or the ECS/EKS link-local address.
 *
 * Untrusted replies: at most HTTP_BODY_MAX bytes (a longer reply is an
 * error), parsed strictly (ship/json_field.h for JSON, ship/xml_tag.h for
 * STS), each field within its cap; an error is one line naming the
 * endpoint (scheme://host/path, never a query) and the status, never a
 * token.  The parsers are pure and fuzzed (tests/fuzz/fuzz_json.c).
 *
 * Caching is not done here: the object-store layer keeps one credential
 * per destination, shared by its slots, and renews it before it expires
 * (objstore_token()).  Secrets: struct cloud_cred and every reply buffer
 * are wiped with explicit_bzero(); nothing here logs a credential.
 */
#ifndef PGA_CLOUD_CRED_H
#define PGA_CLOUD_CRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ship/http.h"

#define CLOUD_ID_MAX 256
#define CLOUD_TOKEN_MAX 8192		/* a session token or an access token */

enum cloud_source {
	CLOUD_STATIC = 0,		/* keys from the section, env or files */
	CLOUD_WEB_IDENTITY,		/* AWS STS AssumeRoleWithWebIdentity */
	CLOUD_CONTAINER,		/* AWS ECS/EKS container credentials */
	CLOUD_AWS_IMDS,			/* EC2 instance role, IMDSv2 */
	CLOUD_AZURE_IMDS,		/* Azure managed identity, IMDS */
	CLOUD_APP_SERVICE,		/* Azure App Service identity endpoint */
	CLOUD_GCE_METADATA,		/* GCE/GKE metadata server */
};

/* A fetched credential: AWS keys with a session token, or a bearer token
 * (id and secret empty).  lifetime_s: seconds it stays valid from now. */
struct cloud_cred {
	char id[CLOUD_ID_MAX];
	char secret[CLOUD_ID_MAX];
	char token[CLOUD_TOKEN_MAX];
	int64_t lifetime_s;
};

/* What the static chain of a kind found, for cloud_pick(). */
struct cloud_static {
	bool keys;			/* section keys or the kind's env keys (and, gs://, key-file) */
	bool file;			/* a credentials file to read (s3/gcs) */
};

/* The source for kind ("s3", "gcs", "azure") given choice (enum
 * pga_cred_source) and what the static chain found; PGA_EINVAL naming what
 * is missing when an explicit choice cannot apply.  CLOUD_STATIC means:
 * resolve the static keys (whose absence is the caller's error). */
int cloud_pick(const char *kind, int choice, const struct cloud_static *st,
	       enum cloud_source *out, struct pga_err *err);
const char *cloud_source_name(enum cloud_source src);

struct cloud_ctx {
	struct http_client *http;
	const char *what;		/* "dest 'name'" */
	http_cancel_fn cancel;
	void *cancel_ctx;
};

/* A new credential from src (not CLOUD_STATIC) into c. */
int cloud_fetch(enum cloud_source src, const struct cloud_ctx *ctx, struct cloud_cred *c,
		struct pga_err *err);

/* ---- the replies (cloud_reply.c: pure, thread-safe, fuzzed) ---- */

/* AWS JSON (IMDS role, container): AccessKeyId, SecretAccessKey, Token,
 * Expiration (RFC 3339 UTC); IMDS's "Code" must be "Success" when given. */
int cloud_parse_aws_json(const char *body, size_t len, int64_t now_s, struct cloud_cred *c,
			 struct pga_err *err);
/* STS AssumeRoleWithWebIdentityResponse XML (NUL-terminated body). */
int cloud_parse_sts_xml(const char *body, int64_t now_s, struct cloud_cred *c,
			struct pga_err *err);
/* An OAuth token reply: access_token and expires_in, or expires_on (epoch
 * seconds); both as a number or a string of digits, as Azure sends them. */
int cloud_parse_bearer_json(const char *body, size_t len, int64_t now_s, struct cloud_cred *c,
			    struct pga_err *err);
/* "2026-12-06T15:00:00Z" (fractions allowed) as epoch seconds; -1 if not. */
int64_t cloud_parse_time(const char *s);

#endif
