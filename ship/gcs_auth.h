/*
 * gcs_auth.h - Google service-account credentials: RS256 JWT for the OAuth
 * token exchange (RFC 7523 grant), parsed from the JSON key file
 *
 * gcs_key_load() reads a service-account JSON key file (it must follow
 * common/secretfile.h: 0600 or 0640, owned by the caller or root, else
 * PGA_EPERM naming the file), keeping
 * client_email, private_key (PEM) and token_uri.  gcs_jwt_assertion()
 * builds header.claims.signature (base64url) for the given scope and time.
 * The token request itself (HTTP POST of the assertion) is done by the GCS
 * destination with its HTTP client.  Private key bytes are wiped on free.
 *
 * The key file is parsed strictly (ship/json_field.h): "type" must be
 * "service_account", "client_email" and "private_key" (PEM, RSA) must be
 * present, "token_uri" defaults to GCS_DEFAULT_TOKEN_URI.  The PEM is
 * parsed at load time, so a bad key is an error before anything is sent;
 * the file text and PEM copy are wiped as soon as they are parsed, the
 * OpenSSL key object is freed (and cleared by OpenSSL) in gcs_key_free().
 *
 * JWT: header {"alg":"RS256","typ":"JWT"}, claims iss=client_email,
 * scope, aud (audience, or token_uri when NULL), iat=now, exp=now+3600.
 * The token request is then a POST to token_uri with
 * Content-Type: application/x-www-form-urlencoded and the body
 * grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=<jwt>
 * (the JWT is base64url and dots, so it needs no further encoding).
 * gcs_parse_token_response() turns an {"error": ..} body into PGA_EREMOTE
 * with the error code and description (never the assertion or token).
 *
 * A struct gcs_key is immutable after load; signing with it from several
 * threads at once is safe (each call uses its own OpenSSL context).
 */
#ifndef PGA_GCS_AUTH_H
#define PGA_GCS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define GCS_DEFAULT_TOKEN_URI "https://oauth2.googleapis.com/token"
#define GCS_SCOPE_RW "https://www.googleapis.com/auth/devstorage.read_write"
#define GCS_KEYFILE_MAX 65536		/* bytes of a key file */
#define GCS_FIELD_MAX 512		/* client_email, token_uri */
#define GCS_SIG_MAX 1024		/* RSA up to 8192 bits */
#define GCS_JWT_MAX 4096		/* a comfortable cap for out */
#define GCS_JWT_LIFETIME_S 3600
#define GCS_TOKEN_RESPONSE_MAX 65536
#define GCS_TOKEN_MAX 4096		/* a comfortable cap for the token */

struct gcs_key;

int gcs_key_load(struct gcs_key **out, const char *path, struct pga_err *err);
const char *gcs_key_email(const struct gcs_key *k);
const char *gcs_key_token_uri(const struct gcs_key *k);
int gcs_jwt_assertion(const struct gcs_key *k, const char *scope,
		      const char *audience, int64_t now_us, char *out,
		      size_t cap, struct pga_err *err);
/* Parse {"access_token": "...", "expires_in": N} from a token response. */
int gcs_parse_token_response(const char *json, char *token, size_t cap,
			     int64_t *expires_in_s, struct pga_err *err);
void gcs_key_free(struct gcs_key *k);

#endif
