#include "ship/gcs_auth.h"

#include <errno.h>
#include <bsd/string.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dynbuf.h"
#include "common/fsutil.h"
#include "common/secretfile.h"
#include "ship/base64.h"
#include "ship/sign.h"
#include "ship/json_field.h"

struct gcs_key {
	char email[GCS_FIELD_MAX];
	char token_uri[GCS_FIELD_MAX];
	EVP_PKEY *pkey;
};

/* The rule of common/secretfile.h, checked on the open fd. */
static int
check_key_file(int fd, const char *path, struct pga_err *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return pga_fail(err, PGA_EIO, "could not stat key file '%s': %m", path);
	if (!S_ISREG(st.st_mode))
		return pga_fail(err, PGA_EINVAL, "key file '%s' is not a regular file", path);
	if (pga_secret_file_check(&st, "key file", path, err) < 0)
		return err->code;
	if (st.st_size >= GCS_KEYFILE_MAX)
		return pga_fail(err, PGA_EINVAL, "key file '%s' is larger than %d bytes",
				path, GCS_KEYFILE_MAX);
	return 0;
}

static int
read_key_file(const char *path, char *buf, size_t cap, size_t *len,
	      struct pga_err *err)
{
	/* symlinks are followed (Kubernetes mounts secrets that way); the
	 * mode and owner checks apply to the file itself, via the fd */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		int code = errno == ENOENT ? PGA_ENOTFOUND :
			   errno == EACCES || errno == EPERM ? PGA_EPERM : PGA_EIO;

		return pga_fail(err, code, "could not open key file '%s': %m", path);
	}
	rc = check_key_file(fd, path, err);
	if (rc == 0)
		rc = pga_read_full(fd, buf, cap - 1, len, path, err);
	if (rc == 0 && *len >= cap - 1)
		rc = pga_fail(err, PGA_EINVAL, "key file '%s' is larger than %zu bytes",
			      path, cap - 2);
	close(fd);
	if (rc == 0)
		buf[*len] = '\0';
	return rc;
}

static int
parse_private_key(struct gcs_key *k, const char *pem, const char *path,
		  struct pga_err *err)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	int rc = 0;

	if (bio == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory reading key file '%s'", path);
	k->pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (k->pkey == NULL)
		rc = pga_fail(err, PGA_EINVAL,
			      "key file '%s' has no readable pem private_key", path);
	else if (EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_RSA)
		rc = pga_fail(err, PGA_EINVAL, "key file '%s' private_key is not an rsa key",
			      path);
	BIO_free(bio);
	return rc;
}

/* The fields we need from the JSON text, into k (pem into pem_buf). */
static int
parse_key_json(struct gcs_key *k, const char *json, size_t len, char *pem_buf,
	       const char *path, struct pga_err *err)
{
	char type[64];
	int rc;

	rc = json_field_string(json, len, "type", type, sizeof(type), err);
	if (rc == 0 && strcmp(type, "service_account") != 0)
		rc = pga_fail(err, PGA_EINVAL, "key file '%s' is of type '%s', not service_account",
			      path, type);
	if (rc == 0)
		rc = json_field_string(json, len, "client_email", k->email,
				       sizeof(k->email), err);
	if (rc == 0)
		rc = json_field_string(json, len, "private_key", pem_buf, GCS_KEYFILE_MAX, err);
	if (rc == 0) {
		rc = json_field_string(json, len, "token_uri", k->token_uri,
				       sizeof(k->token_uri), err);
		if (rc == PGA_ENOTFOUND)
			rc = strlcpy(k->token_uri, GCS_DEFAULT_TOKEN_URI,
				     sizeof(k->token_uri)) < sizeof(k->token_uri) ? 0 : PGA_EINTERNAL;
	}
	if (rc < 0 && err != NULL && strstr(err->msg, path) == NULL)
		pga_err_prefix(err, "key file '%s'", path);
	return rc;
}

int
gcs_key_load(struct gcs_key **out, const char *path, struct pga_err *err)
{
	struct gcs_key *k = NULL;
	char *text = NULL, *pem = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	text = malloc(GCS_KEYFILE_MAX + 1);
	pem = malloc(GCS_KEYFILE_MAX);
	if (k == NULL || text == NULL || pem == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory reading key file '%s'", path);
		goto out;
	}
	rc = read_key_file(path, text, GCS_KEYFILE_MAX + 1, &len, err);
	if (rc == 0)
		rc = parse_key_json(k, text, len, pem, path, err);
	if (rc == 0)
		rc = parse_private_key(k, pem, path, err);
	if (rc == 0) {
		*out = k;
		k = NULL;
	}
out:
	if (text != NULL)
		explicit_bzero(text, GCS_KEYFILE_MAX + 1);
	if (pem != NULL)
		explicit_bzero(pem, GCS_KEYFILE_MAX);
	free(text);
	free(pem);
	gcs_key_free(k);
	return rc;
}

const char *
gcs_key_email(const struct gcs_key *k)
{
	return k->email;
}

const char *
gcs_key_token_uri(const struct gcs_key *k)
{
	return k->token_uri;
}

/* The largest input of put_b64url(): the claims, or a signature. */
#define B64URL_IN_MAX (4 * GCS_FIELD_MAX > GCS_SIG_MAX ? 4 * GCS_FIELD_MAX : GCS_SIG_MAX)

/* A JSON string literal (quotes included) of s. */
static void
put_json_string(struct dynbuf *sb, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	dynbuf_addc(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			dynbuf_addc(sb, '\\');
			dynbuf_addc(sb, (char)c);
		} else if (c < 0x20) {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

			dynbuf_addn(sb, esc, 6);
		} else {
			dynbuf_addc(sb, (char)c);
		}
	}
	dynbuf_addc(sb, '"');
}

static void
put_b64url(struct dynbuf *sb, const void *data, size_t len)
{
	char enc[B64URL_IN_MAX / 3 * 4 + 8];
	long n = len <= B64URL_IN_MAX ? base64url_encode(data, len, enc, sizeof(enc)) : -1;

	if (n >= 0)
		dynbuf_addn(sb, enc, (size_t)n);
	else if (sb->fail == 0)
		sb->fail = PGA_EINVAL;	/* a bug: no input of ours is that long */
}

/* header.claims, both base64url, into sb. */
static int
put_unsigned_jwt(struct dynbuf *sb, const struct gcs_key *k, const char *scope,
		 const char *audience, int64_t now_s, struct pga_err *err)
{
	static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	char claims_buf[4 * GCS_FIELD_MAX], num[64];
	struct dynbuf claims;

	dynbuf_init_fixed(&claims, claims_buf, sizeof(claims_buf));
	dynbuf_adds(&claims, "{\"iss\":");
	put_json_string(&claims, k->email);
	dynbuf_adds(&claims, ",\"scope\":");
	put_json_string(&claims, scope);
	dynbuf_adds(&claims, ",\"aud\":");
	put_json_string(&claims, audience ? audience : k->token_uri);
	snprintf(num, sizeof(num), ",\"iat\":%" PRId64 ",\"exp\":%" PRId64 "}",
		 now_s, now_s + GCS_JWT_LIFETIME_S);
	dynbuf_adds(&claims, num);
	if (dynbuf_check(&claims, "jwt claims", err) < 0)
		return PGA_EINVAL;
	put_b64url(sb, header, sizeof(header) - 1);
	dynbuf_addc(sb, '.');
	put_b64url(sb, dynbuf_str(&claims), claims.len);
	return dynbuf_check(sb, "jwt assertion", err);
}

static int
rs256_sign(EVP_PKEY *pkey, const char *data, size_t len, uint8_t *sig,
	   size_t *siglen, struct pga_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = 0;

	if (ctx == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory signing a jwt");
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, siglen, (const unsigned char *)data, len) != 1)
		rc = pga_fail(err, PGA_EINTERNAL, "rs256 signing failed in openssl");
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
gcs_jwt_assertion(const struct gcs_key *k, const char *scope,
		  const char *audience, int64_t now_us, char *out, size_t cap,
		  struct pga_err *err)
{
	struct dynbuf sb;
	uint8_t sig[GCS_SIG_MAX];
	size_t siglen = sizeof(sig);
	int rc;

	if (k == NULL || k->pkey == NULL || scope == NULL)
		return pga_fail(err, PGA_EINVAL, "no service-account key or scope to sign with");
	if ((size_t)EVP_PKEY_get_size(k->pkey) > sizeof(sig))
		return pga_fail(err, PGA_EINVAL, "service-account key of '%s' is too large",
				k->email);
	dynbuf_init_fixed(&sb, out, cap);
	rc = put_unsigned_jwt(&sb, k, scope, audience, now_us / 1000000, err);
	if (rc == 0)
		rc = rs256_sign(k->pkey, dynbuf_str(&sb), sb.len, sig, &siglen, err);
	if (rc == 0) {
		dynbuf_addc(&sb, '.');
		put_b64url(&sb, sig, siglen);
		rc = dynbuf_check(&sb, "jwt assertion", err);
	}
	if (rc < 0 && cap > 0)
		out[0] = '\0';
	return rc;
}

/* An OAuth error body: {"error": "...", "error_description": "..."}. */
static int
token_error(const char *json, size_t len, struct pga_err *err)
{
	char code[128] = "", desc[256] = "";

	if (json_field_string(json, len, "error", code, sizeof(code), NULL) < 0)
		return 0;
	json_field_string(json, len, "error_description", desc, sizeof(desc), NULL);
	return pga_fail(err, PGA_EREMOTE, "token endpoint refused the assertion: %s%s%s",
			code, desc[0] ? ": " : "", desc);
}

int
gcs_parse_token_response(const char *json, char *token, size_t cap,
			 int64_t *expires_in_s, struct pga_err *err)
{
	size_t len = strnlen(json, GCS_TOKEN_RESPONSE_MAX + 1);
	int rc;

	if (cap > 0)
		token[0] = '\0';
	if (len > GCS_TOKEN_RESPONSE_MAX)
		return pga_fail(err, PGA_EFORMAT, "token response is longer than %d bytes",
				GCS_TOKEN_RESPONSE_MAX);
	if ((rc = token_error(json, len, err)) < 0)
		return rc;
	rc = json_field_string(json, len, "access_token", token, cap, err);
	if (rc == 0)
		rc = json_field_int(json, len, "expires_in", expires_in_s, err);
	if (rc == 0 && (*expires_in_s <= 0 || token[0] == '\0'))
		rc = pga_fail(err, PGA_EFORMAT, "token response has an empty token or expiry");
	if (rc < 0) {
		if (cap > 0)
			explicit_bzero(token, cap);
		pga_err_prefix(err, "bad token response");
	}
	return rc;
}

void
gcs_key_free(struct gcs_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	explicit_bzero(k, sizeof(*k));
	free(k);
}
