/* The replies of the credential sources; see cloud_cred.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ship/cloud_cred.h"
#include "ship/json_field.h"
#include "ship/xml_tag.h"

/* A credential that is already expired, or valid for more than a year, is
 * a wrong clock or a wrong reply: refused rather than cached for ever. */
#define LIFETIME_MAX_S (366 * 86400)

static int
two(const char *s)
{
	return (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9') ?
	       (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

int64_t
cloud_parse_time(const char *s)
{
	struct tm tm = {0};
	const char *p;
	int y1 = two(s), y2;

	if (y1 < 0 || (y2 = two(s + 2)) < 0 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return -1;
	tm.tm_year = y1 * 100 + y2 - 1900;
	tm.tm_mon = two(s + 5) - 1;
	tm.tm_mday = two(s + 8);
	tm.tm_hour = two(s + 11);
	tm.tm_min = two(s + 14);
	tm.tm_sec = two(s + 17);
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 ||
	    tm.tm_sec < 0 || tm.tm_sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (!((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') && strcmp(p, "+00:00") != 0)
		return -1;
	return (int64_t)timegm(&tm);
}

static int
set_lifetime(struct cloud_cred *c, int64_t lifetime_s, struct pga_err *err)
{
	if (lifetime_s <= 0)
		return pga_fail(err, PGA_EREMOTE, "the credential is already expired "
				"(is the clock right?)");
	if (lifetime_s > LIFETIME_MAX_S)
		return pga_fail(err, PGA_EREMOTE, "the credential's expiry is more than a year away");
	c->lifetime_s = lifetime_s;
	return 0;
}

static int
finish(struct cloud_cred *c, int rc, const char *what, struct pga_err *err)
{
	if (rc < 0) {
		explicit_bzero(c, sizeof(*c));
		pga_err_prefix(err, "bad %s reply", what);
	}
	return rc;
}

int
cloud_parse_aws_json(const char *body, size_t len, int64_t now_s, struct cloud_cred *c,
		     struct pga_err *err)
{
	char code[64], exp[64];
	int64_t t;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = json_field_string(body, len, "Code", code, sizeof(code), err);
	if (rc == 0 && strcmp(code, "Success") != 0)
		rc = pga_fail(err, PGA_EREMOTE, "code '%s'", code);
	else if (rc == PGA_ENOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = json_field_string(body, len, "AccessKeyId", c->id, sizeof(c->id), err);
	if (rc == 0)
		rc = json_field_string(body, len, "SecretAccessKey", c->secret,
				       sizeof(c->secret), err);
	if (rc == 0)
		rc = json_field_string(body, len, "Token", c->token, sizeof(c->token), err);
	if (rc == 0)
		rc = json_field_string(body, len, "Expiration", exp, sizeof(exp), err);
	if (rc == 0 && (c->id[0] == '\0' || c->secret[0] == '\0' || c->token[0] == '\0'))
		rc = pga_fail(err, PGA_EREMOTE, "an empty AccessKeyId, SecretAccessKey or Token");
	if (rc == 0 && (t = cloud_parse_time(exp)) < 0)
		rc = pga_fail(err, PGA_EREMOTE, "Expiration is not an RFC 3339 UTC time");
	if (rc == 0)
		rc = set_lifetime(c, t - now_s, err);
	return finish(c, rc, "credentials", err);
}

/* One element of the STS reply, required and within cap. */
static int
sts_field(const char *p, const char *tag, char *out, size_t cap, struct pga_err *err)
{
	if (xml_tag(p, tag, out, cap) == NULL || out[0] == '\0')
		return pga_fail(err, PGA_EREMOTE, "no %s (or longer than %zu bytes)", tag, cap - 1);
	return 0;
}

int
cloud_parse_sts_xml(const char *body, int64_t now_s, struct cloud_cred *c, struct pga_err *err)
{
	const char *p = strstr(body, "<Credentials>");
	char exp[64];
	int64_t t;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if (p == NULL)
		rc = pga_fail(err, PGA_EREMOTE, "no Credentials element");
	if (rc == 0)
		rc = sts_field(p, "AccessKeyId", c->id, sizeof(c->id), err);
	if (rc == 0)
		rc = sts_field(p, "SecretAccessKey", c->secret, sizeof(c->secret), err);
	if (rc == 0)
		rc = sts_field(p, "SessionToken", c->token, sizeof(c->token), err);
	if (rc == 0)
		rc = sts_field(p, "Expiration", exp, sizeof(exp), err);
	if (rc == 0 && (t = cloud_parse_time(exp)) < 0)
		rc = pga_fail(err, PGA_EREMOTE, "Expiration is not an RFC 3339 UTC time");
	if (rc == 0)
		rc = set_lifetime(c, t - now_s, err);
	return finish(c, rc, "sts", err);
}

/* key as a JSON integer or a string of 1 to 18 digits; PGA_ENOTFOUND if absent. */
static int
int_or_digits(const char *body, size_t len, const char *key, int64_t *v, struct pga_err *err)
{
	char s[32];
	int rc = json_field_int(body, len, key, v, NULL);

	if (rc != PGA_EFORMAT)
		return rc == PGA_ENOTFOUND ? rc : rc < 0 ? pga_fail(err, rc, "bad %s", key) : 0;
	rc = json_field_string(body, len, key, s, sizeof(s), err);
	if (rc < 0)
		return rc;
	if (s[0] == '\0' || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s))
		return pga_fail(err, PGA_EREMOTE, "%s is not a number", key);
	*v = strtoll(s, NULL, 10);
	return 0;
}

int
cloud_parse_bearer_json(const char *body, size_t len, int64_t now_s, struct cloud_cred *c,
			struct pga_err *err)
{
	int64_t v = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = json_field_string(body, len, "access_token", c->token, sizeof(c->token), err);
	if (rc == 0 && c->token[0] == '\0')
		rc = pga_fail(err, PGA_EREMOTE, "an empty access_token");
	if (rc == 0) {
		rc = int_or_digits(body, len, "expires_in", &v, err);
		if (rc == 0) {
			rc = set_lifetime(c, v, err);
		} else if (rc == PGA_ENOTFOUND) {
			rc = int_or_digits(body, len, "expires_on", &v, err);
			if (rc == PGA_ENOTFOUND)
				rc = pga_fail(err, PGA_EREMOTE, "neither expires_in nor expires_on");
			if (rc == 0)
				rc = set_lifetime(c, v - now_s, err);
		}
	}
	return finish(c, rc, "token", err);
}
