/*
 * Unit tests of ship/gcs_auth.c and ship/json_field.c.  A throwaway RSA key
 * is generated with OpenSSL in the test, written into a service-account
 * JSON key file, and every JWT we produce is verified with the public key.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ship/base64.h"
#include "ship/gcs_auth.h"
#include "ship/json_field.h"

#define NOW_US (1700000000LL * 1000000)
#define EMAIL "pga-test@example-project.iam.gserviceaccount.com"

static char tmpdir[] = "/tmp/pga-unit-gcs.XXXXXX";
static EVP_PKEY *rsa_key;
static char *rsa_pem;	/* PKCS#8 PEM, as Google's key files hold it */

static char *
pem_of(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *copy;
	long n;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(bio, &data);
	copy = strndup(data, (size_t)n);
	BIO_free(bio);
	return copy;
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (rsa_key == NULL)
		return -1;
	rsa_pem = pem_of(rsa_key);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	EVP_PKEY_free(rsa_key);
	free(rsa_pem);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The PEM as a JSON string body: newlines become \n. */
static void
json_escape_pem(const char *pem, char *out, size_t cap)
{
	size_t o = 0;

	for (; *pem && o + 3 < cap; pem++) {
		if (*pem == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *pem;
		}
	}
	out[o] = '\0';
}

static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static const char *
write_keyfile(const char *name, const char *type, const char *pem, const char *extra,
	      mode_t mode)
{
	static char text[16384];
	char esc[8192];

	json_escape_pem(pem, esc, sizeof(esc));
	snprintf(text, sizeof(text),
		 "{\n  \"type\": \"%s\",\n  \"project_id\": \"example-project\",\n"
		 "  \"private_key_id\": \"0123abcd\",\n  \"private_key\": \"%s\",\n"
		 "  \"client_email\": \"" EMAIL "\",\n  \"client_id\": \"1234567890\",\n"
		 "  \"auth_uri\": \"https://accounts.google.com/o/oauth2/auth\",\n"
		 "  \"nested\": {\"a\": [1, 2.5e3, true, false, null, {\"b\": \"\\u00e9\"}]}%s\n}\n",
		 type, esc, extra);
	return write_file(name, text, mode);
}

/* base64url without padding -> bytes, via the standard decoder. */
static long
b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	char buf[4096];
	size_t o = 0;

	assert_true(len + 4 < sizeof(buf));
	for (size_t i = 0; i < len; i++)
		buf[o++] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	while (o % 4)
		buf[o++] = '=';
	buf[o] = '\0';
	return base64_decode(buf, out, cap);
}

static int
verify_rs256(const char *jwt, size_t signed_len, const char *sig_b64)
{
	uint8_t sig[1024];
	long n = b64url_decode(sig_b64, strlen(sig_b64), sig, sizeof(sig));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	assert_true(n > 0);
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, rsa_key), 1);
	ok = EVP_DigestVerify(ctx, sig, (size_t)n, (const uint8_t *)jwt, signed_len);
	EVP_MD_CTX_free(ctx);
	return ok;
}

static void
test_load_and_jwt(void **state)
{
	struct gcs_key *k = NULL;
	struct pga_err err = {0};
	char jwt[GCS_JWT_MAX], part[2048], s[256];
	const char *dot1, *dot2;
	long n;
	int64_t v;

	(void)state;
	assert_int_equal(gcs_key_load(&k, write_keyfile("k.json", "service_account", rsa_pem,
							 "", 0600), &err), 0);
	assert_string_equal(gcs_key_email(k), EMAIL);
	assert_string_equal(gcs_key_token_uri(k), GCS_DEFAULT_TOKEN_URI);
	assert_int_equal(gcs_jwt_assertion(k, GCS_SCOPE_RW, NULL, NOW_US, jwt, sizeof(jwt),
					   &err), 0);
	dot1 = strchr(jwt, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	assert_non_null(dot2);
	assert_null(strchr(jwt, '='));
	n = b64url_decode(jwt, (size_t)(dot1 - jwt), (uint8_t *)part, sizeof(part) - 1);
	part[n] = '\0';
	assert_string_equal(part, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
	n = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), (uint8_t *)part, sizeof(part) - 1);
	assert_true(n > 0);
	part[n] = '\0';
	assert_int_equal(json_field_string(part, (size_t)n, "iss", s, sizeof(s), &err), 0);
	assert_string_equal(s, EMAIL);
	assert_int_equal(json_field_string(part, (size_t)n, "scope", s, sizeof(s), &err), 0);
	assert_string_equal(s, GCS_SCOPE_RW);
	assert_int_equal(json_field_string(part, (size_t)n, "aud", s, sizeof(s), &err), 0);
	assert_string_equal(s, GCS_DEFAULT_TOKEN_URI);
	assert_int_equal(json_field_int(part, (size_t)n, "iat", &v, &err), 0);
	assert_int_equal(v, NOW_US / 1000000);
	assert_int_equal(json_field_int(part, (size_t)n, "exp", &v, &err), 0);
	assert_int_equal(v, NOW_US / 1000000 + 3600);
	assert_int_equal(verify_rs256(jwt, (size_t)(dot2 - jwt), dot2 + 1), 1);
	/* a flipped bit in the claims no longer verifies */
	jwt[dot1 - jwt + 5] ^= 1;
	assert_int_not_equal(verify_rs256(jwt, (size_t)(dot2 - jwt), dot2 + 1), 1);
	/* too small an output buffer is an error, not a cut assertion */
	assert_int_equal(gcs_jwt_assertion(k, GCS_SCOPE_RW, NULL, NOW_US, jwt, 100, &err),
			 PGA_EINVAL);
	assert_string_equal(jwt, "");
	gcs_key_free(k);
}

static void
test_custom_token_uri_and_audience(void **state)
{
	struct gcs_key *k = NULL;
	struct pga_err err = {0};
	char jwt[GCS_JWT_MAX], part[2048], s[256];
	const char *dot1;
	long n;

	(void)state;
	assert_int_equal(gcs_key_load(&k, write_keyfile("t.json", "service_account", rsa_pem,
		",\n  \"token_uri\": \"http://127.0.0.1:9/token\"", 0600), &err), 0);
	assert_string_equal(gcs_key_token_uri(k), "http://127.0.0.1:9/token");
	assert_int_equal(gcs_jwt_assertion(k, "a \"quoted\" scope", "aud\\x", NOW_US, jwt,
					   sizeof(jwt), &err), 0);
	dot1 = strchr(jwt, '.');
	n = b64url_decode(dot1 + 1, strcspn(dot1 + 1, "."), (uint8_t *)part, sizeof(part) - 1);
	part[n] = '\0';
	assert_int_equal(json_field_string(part, (size_t)n, "scope", s, sizeof(s), &err), 0);
	assert_string_equal(s, "a \"quoted\" scope");
	assert_int_equal(json_field_string(part, (size_t)n, "aud", s, sizeof(s), &err), 0);
	assert_string_equal(s, "aud\\x");
	gcs_key_free(k);
}

static void
test_load_errors(void **state)
{
	struct gcs_key *k = NULL;
	struct pga_err err = {0};
	const char *path;
	EVP_PKEY *ec;
	char *ec_pem;

	(void)state;
	path = write_keyfile("open.json", "service_account", rsa_pem, "", 0644);
	assert_int_equal(gcs_key_load(&k, path, &err), PGA_EPERM);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "0600"));
	assert_null(k);
	/* the rule of common/secretfile.h: a group may read, never write */
	path = write_keyfile("group.json", "service_account", rsa_pem, "", 0640);
	assert_int_equal(gcs_key_load(&k, path, &err), 0);
	gcs_key_free(k);
	k = NULL;
	path = write_keyfile("groupw.json", "service_account", rsa_pem, "", 0660);
	assert_int_equal(gcs_key_load(&k, path, &err), PGA_EPERM);
	assert_non_null(strstr(err.msg, "0660, open to its group for writing"));
	path = write_keyfile("other.json", "service_account", rsa_pem, "", 0604);
	assert_int_equal(gcs_key_load(&k, path, &err), PGA_EPERM);
	assert_non_null(strstr(err.msg, "0604, open to others"));
	assert_null(k);
	assert_int_equal(gcs_key_load(&k, "/nonexistent/key.json", &err), PGA_ENOTFOUND);
	assert_non_null(strstr(err.msg, "'/nonexistent/key.json'"));
	path = write_keyfile("user.json", "authorized_user", rsa_pem, "", 0600);
	assert_int_equal(gcs_key_load(&k, path, &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "not service_account"));
	path = write_keyfile("garbage.json", "service_account", "not a pem", "", 0600);
	assert_int_equal(gcs_key_load(&k, path, &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "no readable pem"));
	path = write_file("broken.json", "{\"type\": \"service_account\", \"private_key\": ", 0600);
	assert_int_equal(gcs_key_load(&k, path, &err), PGA_EFORMAT);
	assert_non_null(strstr(err.msg, path));
	path = write_file("noemail.json", "{\"type\": \"service_account\"}", 0600);
	assert_int_equal(gcs_key_load(&k, path, &err), PGA_ENOTFOUND);
	assert_non_null(strstr(err.msg, "'client_email'"));
	path = write_keyfile("dup.json", "service_account", rsa_pem,
			     ",\n  \"client_email\": \"evil@example.com\"", 0600);
	assert_int_equal(gcs_key_load(&k, path, &err), PGA_EFORMAT);
	assert_non_null(strstr(err.msg, "given twice"));
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(ec);
	ec_pem = pem_of(ec);
	path = write_keyfile("ec.json", "service_account", ec_pem, "", 0600);
	assert_int_equal(gcs_key_load(&k, path, &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "not an rsa key"));
	free(ec_pem);
	EVP_PKEY_free(ec);
	/* the private key never appears in a message */
	assert_null(strstr(err.msg, "PRIVATE KEY"));
	assert_null(k);
}

static void
test_token_response(void **state)
{
	char tok[64];
	int64_t exp = 0;
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(gcs_parse_token_response(
		"{\"access_token\":\"ya29.c.secret-token\",\"expires_in\":3599,"
		"\"token_type\":\"Bearer\"}", tok, sizeof(tok), &exp, &err), 0);
	assert_string_equal(tok, "ya29.c.secret-token");
	assert_int_equal(exp, 3599);
	assert_int_equal(gcs_parse_token_response(
		"{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}",
		tok, sizeof(tok), &exp, &err), PGA_EREMOTE);
	assert_string_equal(err.msg, "token endpoint refused the assertion: invalid_grant: "
			    "Invalid JWT Signature.");
	assert_int_equal(gcs_parse_token_response("{\"access_token\":\"x\"}", tok, sizeof(tok),
						  &exp, &err), PGA_ENOTFOUND);
	assert_int_equal(gcs_parse_token_response("{\"access_token\":\"x\",\"expires_in\":\"9\"}",
						  tok, sizeof(tok), &exp, &err), PGA_EFORMAT);
	assert_string_equal(tok, "");
	assert_int_equal(gcs_parse_token_response("<html>502</html>", tok, sizeof(tok), &exp,
						  &err), PGA_EFORMAT);
	assert_int_equal(gcs_parse_token_response(
		"{\"access_token\":\"0123456789012345678901234567890123456789\",\"expires_in\":1}",
		tok, 16, &exp, &err), PGA_EINVAL);
	assert_null(strstr(err.msg, "0123456789"));
}

static int
jstr(const char *json, const char *key, char *out, size_t cap)
{
	return json_field_string(json, strlen(json), key, out, cap, NULL);
}

static void
test_json_field(void **state)
{
	char s[64], deep[200];
	int64_t v;

	(void)state;
	assert_int_equal(jstr(" {\"a\" : \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"} ",
			      "a", s, sizeof(s)), 0);
	assert_string_equal(s, "x\"\\/\b\f\n\r\t\303\251\360\237\230\200");
	assert_int_equal(jstr("{\"a\":\"x\"}", "b", s, sizeof(s)), PGA_ENOTFOUND);
	assert_int_equal(jstr("{\"a\":1}", "a", s, sizeof(s)), PGA_EFORMAT);
	assert_int_equal(jstr("{\"a\":\"x\",\"a\":\"y\"}", "a", s, sizeof(s)), PGA_EFORMAT);
	assert_int_equal(jstr("{\"a\":\"x\"} x", "a", s, sizeof(s)), PGA_EFORMAT);
	assert_int_equal(jstr("{\"a\":\"x\",}", "a", s, sizeof(s)), PGA_EFORMAT);
	assert_int_equal(jstr("{\"a\":\"x\nraw\"}", "a", s, sizeof(s)), PGA_EFORMAT);
	assert_int_equal(jstr("{\"a\":\"\\ud800\"}", "a", s, sizeof(s)), PGA_EFORMAT);
	assert_int_equal(jstr("{\"a\":\"\\u0000\"}", "a", s, sizeof(s)), PGA_EFORMAT);
	assert_int_equal(jstr("{\"a\":\"\\x\"}", "a", s, sizeof(s)), PGA_EFORMAT);
	assert_int_equal(jstr("{\"a\":01}", "a", s, sizeof(s)), PGA_EFORMAT);
	assert_int_equal(jstr("{\"a\":tru}", "a", s, sizeof(s)), PGA_EFORMAT);
	assert_int_equal(jstr("[\"a\"]", "a", s, sizeof(s)), PGA_EFORMAT);
	assert_int_equal(jstr("{\"a\":\"0123456789\"}", "a", s, 10), PGA_EINVAL);
	assert_int_equal(jstr("{\"a\":\"012345678\"}", "a", s, 10), 0);
	/* nesting beyond the cap is refused, within it accepted */
	memset(deep, 0, sizeof(deep));
	strcpy(deep, "{\"a\":\"x\",\"b\":");
	for (int i = 0; i < JSON_FIELD_MAX_DEPTH + 1; i++)
		strcat(deep, "[");
	for (int i = 0; i < JSON_FIELD_MAX_DEPTH + 1; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	assert_int_equal(jstr(deep, "a", s, sizeof(s)), PGA_EFORMAT);
	assert_int_equal(jstr("{\"a\":\"x\",\"b\":[[[{\"c\":[]}]]]}", "a", s, sizeof(s)), 0);
	/* the text length bounds the scan: no NUL needed, none read past */
	assert_int_equal(json_field_string("{\"a\":\"x\"}garbage", 9, "a", s, sizeof(s), NULL), 0);
	assert_int_equal(json_field_int("{\"n\": -42}", 10, "n", &v, NULL), 0);
	assert_int_equal(v, -42);
	assert_int_equal(json_field_int("{\"n\": 4.5}", 10, "n", &v, NULL), PGA_EFORMAT);
	assert_int_equal(json_field_int("{\"n\": 99999999999999999999}", 27, "n", &v, NULL),
			 PGA_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_and_jwt),
		cmocka_unit_test(test_custom_token_uri_and_audience),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_token_response),
		cmocka_unit_test(test_json_field),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
