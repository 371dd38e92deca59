/*
 * Unit tests of ship/cloud_reply.c (the credential replies of IMDS, ECS,
 * STS, Azure and GCE, parsed as untrusted input) and of the choice of
 * source (cloud_pick: the chain's order and credential-source).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/config.h"
#include "ship/cloud_cred.h"

#define NOW 1765000000LL	/* 2025-12-06T05:46:40Z */

static int
aws(const char *json, struct cloud_cred *c, struct pga_err *err)
{
	return cloud_parse_aws_json(json, strlen(json), NOW, c, err);
}

static void
test_time(void **state)
{
	(void)state;
	assert_int_equal(cloud_parse_time("2025-12-06T05:46:40Z"), NOW);
	assert_int_equal(cloud_parse_time("2025-12-06T05:46:40.123Z"), NOW);
	assert_int_equal(cloud_parse_time("2025-12-06T05:46:40+00:00"), NOW);
	assert_int_equal(cloud_parse_time("2025-12-06t05:46:40z"), NOW);
	/* other zones, missing parts, junk after, out of range */
	assert_int_equal(cloud_parse_time("2025-12-06T05:46:40+01:00"), -1);
	assert_int_equal(cloud_parse_time("2025-12-06T05:46:40"), -1);
	assert_int_equal(cloud_parse_time("2025-12-06 05:46:40Z"), -1);
	assert_int_equal(cloud_parse_time("2025-13-06T05:46:40Z"), -1);
	assert_int_equal(cloud_parse_time("2025-12-06T24:00:00Z"), -1);
	assert_int_equal(cloud_parse_time("2025-12-06T05:46:40Zx"), -1);
	assert_int_equal(cloud_parse_time(""), -1);
	assert_int_equal(cloud_parse_time("2025"), -1);
}

static void
test_aws_json(void **state)
{
	struct cloud_cred c;
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(aws("{\"Code\": \"Success\", \"AccessKeyId\": \"ASIAX\", "
			     "\"SecretAccessKey\": \"s/+=\", \"Token\": \"tok\\u00e9n\", "
			     "\"Expiration\": \"2025-12-06T06:46:40Z\"}", &c, &err), 0);
	assert_string_equal(c.id, "ASIAX");
	assert_string_equal(c.secret, "s/+=");
	assert_string_equal(c.token, "tok\xc3\xa9n");
	assert_int_equal(c.lifetime_s, 3600);
	/* ECS sends no Code */
	assert_int_equal(aws("{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\", \"Token\": \"t\", "
			     "\"Expiration\": \"2025-12-06T05:46:50Z\", \"RoleArn\": \"x\"}", &c, &err), 0);
	assert_int_equal(c.lifetime_s, 10);
	/* refused: another Code, a field missing or empty or of another type,
	 * an expiry past or a year away, a bad time, not JSON, a key twice */
	assert_int_equal(aws("{\"Code\": \"Failure\", \"AccessKeyId\": \"A\"}", &c, &err), PGA_EREMOTE);
	assert_non_null(strstr(err.msg, "bad credentials reply: code 'Failure'"));
	assert_int_equal(c.id[0], '\0');
	assert_true(aws("{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\", "
			"\"Expiration\": \"2025-12-06T06:46:40Z\"}", &c, &err) < 0);
	assert_true(aws("{\"AccessKeyId\": \"\", \"SecretAccessKey\": \"s\", \"Token\": \"t\", "
			"\"Expiration\": \"2025-12-06T06:46:40Z\"}", &c, &err) < 0);
	assert_true(aws("{\"AccessKeyId\": 1, \"SecretAccessKey\": \"s\", \"Token\": \"t\", "
			"\"Expiration\": \"2025-12-06T06:46:40Z\"}", &c, &err) < 0);
	assert_true(aws("{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\", \"Token\": \"t\", "
			"\"Expiration\": \"2025-12-06T05:46:40Z\"}", &c, &err) < 0);
	assert_non_null(strstr(err.msg, "already expired"));
	assert_true(aws("{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\", \"Token\": \"t\", "
			"\"Expiration\": \"2027-12-06T05:46:40Z\"}", &c, &err) < 0);
	assert_true(aws("{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\", \"Token\": \"t\", "
			"\"Expiration\": \"tomorrow\"}", &c, &err) < 0);
	assert_true(aws("{\"AccessKeyId\": \"A\", \"AccessKeyId\": \"B\", \"SecretAccessKey\": \"s\", "
			"\"Token\": \"t\", \"Expiration\": \"2025-12-06T06:46:40Z\"}", &c, &err) < 0);
	assert_true(aws("<html>", &c, &err) < 0);
	assert_true(aws("", &c, &err) < 0);
	/* a secret never shows in the message */
	assert_true(aws("{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"hunter2\", \"Token\": 5, "
			"\"Expiration\": \"2025-12-06T06:46:40Z\"}", &c, &err) < 0);
	assert_null(strstr(err.msg, "hunter2"));
	/* a field longer than its cap is refused, not cut */
	{
		char big[600];

		snprintf(big, sizeof(big), "{\"AccessKeyId\": \"%0300d\", \"SecretAccessKey\": \"s\", "
			 "\"Token\": \"t\", \"Expiration\": \"2025-12-06T06:46:40Z\"}", 7);
		assert_true(aws(big, &c, &err) < 0);
	}
}

static void
test_sts_xml(void **state)
{
	static const char ok[] =
		"<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
		"<SubjectFromWebIdentityToken>x</SubjectFromWebIdentityToken><Credentials>"
		"<SessionToken>FwoG&amp;x</SessionToken><SecretAccessKey>sec</SecretAccessKey>"
		"<Expiration>2025-12-06T06:46:40Z</Expiration><AccessKeyId>ASIAY</AccessKeyId>"
		"</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
	struct cloud_cred c;
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(cloud_parse_sts_xml(ok, NOW, &c, &err), 0);
	assert_string_equal(c.id, "ASIAY");
	assert_string_equal(c.secret, "sec");
	assert_string_equal(c.token, "FwoG&x");
	assert_int_equal(c.lifetime_s, 3600);
	assert_int_equal(cloud_parse_sts_xml("<ErrorResponse><Error><Code>X</Code></Error>"
					     "</ErrorResponse>", NOW, &c, &err), PGA_EREMOTE);
	assert_non_null(strstr(err.msg, "bad sts reply: no Credentials element"));
	assert_true(cloud_parse_sts_xml("<Credentials><AccessKeyId>A</AccessKeyId>"
					"<SecretAccessKey>s</SecretAccessKey>"
					"<Expiration>2025-12-06T06:46:40Z</Expiration></Credentials>",
					NOW, &c, &err) < 0);
	assert_non_null(strstr(err.msg, "SessionToken"));
	/* unclosed, empty */
	assert_true(cloud_parse_sts_xml("<Credentials><AccessKeyId>A", NOW, &c, &err) < 0);
	assert_true(cloud_parse_sts_xml("<Credentials><AccessKeyId></AccessKeyId></Credentials>",
					NOW, &c, &err) < 0);
	assert_int_equal(c.id[0], '\0');
}

static int
bearer(const char *json, struct cloud_cred *c, struct pga_err *err)
{
	return cloud_parse_bearer_json(json, strlen(json), NOW, c, err);
}

static void
test_bearer_json(void **state)
{
	struct cloud_cred c;
	struct pga_err err = {0};

	(void)state;
	/* GCE: a number */
	assert_int_equal(bearer("{\"access_token\": \"ya29.x\", \"expires_in\": 3599, "
				"\"token_type\": \"Bearer\"}", &c, &err), 0);
	assert_string_equal(c.token, "ya29.x");
	assert_int_equal(c.lifetime_s, 3599);
	assert_int_equal(c.id[0], '\0');
	/* Azure IMDS: strings, expires_in wins */
	assert_int_equal(bearer("{\"access_token\": \"eyJ\", \"expires_in\": \"86399\", "
				"\"expires_on\": \"1\"}", &c, &err), 0);
	assert_int_equal(c.lifetime_s, 86399);
	/* App Service: expires_on only, epoch seconds as a string */
	assert_int_equal(bearer("{\"access_token\": \"eyJ\", \"expires_on\": \"1765000600\"}",
				&c, &err), 0);
	assert_int_equal(c.lifetime_s, 600);
	assert_int_equal(bearer("{\"access_token\": \"eyJ\", \"expires_on\": 1765000060}", &c, &err), 0);
	assert_int_equal(c.lifetime_s, 60);
	/* refused */
	assert_true(bearer("{\"access_token\": \"eyJ\"}", &c, &err) < 0);
	assert_non_null(strstr(err.msg, "neither expires_in nor expires_on"));
	assert_true(bearer("{\"access_token\": \"\", \"expires_in\": 5}", &c, &err) < 0);
	assert_true(bearer("{\"access_token\": \"eyJ\", \"expires_in\": \"5s\"}", &c, &err) < 0);
	assert_true(bearer("{\"access_token\": \"eyJ\", \"expires_in\": \"-5\"}", &c, &err) < 0);
	assert_true(bearer("{\"access_token\": \"eyJ\", \"expires_in\": \"\"}", &c, &err) < 0);
	assert_true(bearer("{\"access_token\": \"eyJ\", \"expires_in\": \"99999999999999999999\"}",
			   &c, &err) < 0);
	assert_true(bearer("{\"access_token\": \"eyJ\", \"expires_in\": 0}", &c, &err) < 0);
	assert_true(bearer("{\"access_token\": \"eyJ\", \"expires_in\": -1}", &c, &err) < 0);
	assert_true(bearer("{\"access_token\": \"eyJ\", \"expires_on\": \"1765000000\"}", &c, &err) < 0);
	assert_true(bearer("{\"access_token\": \"eyJ\", \"expires_in\": true}", &c, &err) < 0);
	assert_true(bearer("{\"access_token\": [\"eyJ\"], \"expires_in\": 5}", &c, &err) < 0);
	assert_true(bearer("{\"error\": \"invalid_request\"}", &c, &err) < 0);
	assert_true(bearer("{\"access_token\": \"eyJ\", \"expires_in\": 5", &c, &err) < 0);
	assert_int_equal(c.token[0], '\0');
}

static void
test_pick(void **state)
{
	struct cloud_static none = {0}, keys = {.keys = true}, file = {.file = true};
	enum cloud_source src;
	struct pga_err err = {0};

	(void)state;
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	unsetenv("AWS_ROLE_ARN");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	unsetenv("IDENTITY_ENDPOINT");
	unsetenv("IDENTITY_HEADER");
	unsetenv("GCE_METADATA_HOST");
	unsetenv("AZURE_POD_IDENTITY_AUTHORITY_HOST");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("NO_GCE_CHECK", "true", 1);
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");

	/* nothing applies: static (the caller's "no credentials") */
	assert_int_equal(cloud_pick("s3", PGA_CRED_AUTO, &none, &src, &err), 0);
	assert_int_equal(src, CLOUD_STATIC);
	/* s3 order: keys, web identity, file, container, imds */
	setenv("AWS_EC2_METADATA_DISABLED", "false", 1);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
	assert_int_equal(cloud_pick("s3", PGA_CRED_AUTO, &none, &src, &err), 0);
	assert_int_equal(src, CLOUD_AWS_IMDS);
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds", 1);
	assert_int_equal(cloud_pick("s3", PGA_CRED_AUTO, &none, &src, &err), 0);
	assert_int_equal(src, CLOUD_CONTAINER);
	assert_int_equal(cloud_pick("s3", PGA_CRED_AUTO, &file, &src, &err), 0);
	assert_int_equal(src, CLOUD_STATIC);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/t", 1);
	assert_int_equal(cloud_pick("s3", PGA_CRED_AUTO, &file, &src, &err), 0);
	assert_int_equal(src, CLOUD_STATIC);	/* needs AWS_ROLE_ARN too */
	setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/r", 1);
	assert_int_equal(cloud_pick("s3", PGA_CRED_AUTO, &file, &src, &err), 0);
	assert_int_equal(src, CLOUD_WEB_IDENTITY);
	assert_int_equal(cloud_pick("s3", PGA_CRED_AUTO, &keys, &src, &err), 0);
	assert_int_equal(src, CLOUD_STATIC);
	/* static never fetches, whatever is set */
	assert_int_equal(cloud_pick("s3", PGA_CRED_STATIC, &none, &src, &err), 0);
	assert_int_equal(src, CLOUD_STATIC);
	/* an explicit choice wins over keys */
	assert_int_equal(cloud_pick("s3", PGA_CRED_INSTANCE, &keys, &src, &err), 0);
	assert_int_equal(src, CLOUD_AWS_IMDS);
	assert_int_equal(cloud_pick("s3", PGA_CRED_CONTAINER, &keys, &src, &err), 0);
	assert_int_equal(src, CLOUD_CONTAINER);
	/* an explicit choice that cannot apply, or is for another kind */
	assert_int_equal(cloud_pick("gcs", PGA_CRED_WEB_IDENTITY, &none, &src, &err), PGA_EINVAL);
	assert_int_equal(cloud_pick("azure", PGA_CRED_CONTAINER, &none, &src, &err), PGA_EINVAL);
	assert_int_equal(cloud_pick("s3", PGA_CRED_APP_SERVICE, &none, &src, &err), PGA_EINVAL);
	unsetenv("AWS_ROLE_ARN");
	assert_int_equal(cloud_pick("s3", PGA_CRED_WEB_IDENTITY, &none, &src, &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "AWS_ROLE_ARN"));

	/* gcs: keys (or key-file) and the credentials file before the metadata server */
	assert_int_equal(cloud_pick("gcs", PGA_CRED_AUTO, &none, &src, &err), 0);
	assert_int_equal(src, CLOUD_STATIC);
	setenv("GCE_METADATA_HOST", "127.0.0.1:1", 1);
	assert_int_equal(cloud_pick("gcs", PGA_CRED_AUTO, &none, &src, &err), 0);
	assert_int_equal(src, CLOUD_GCE_METADATA);
	assert_int_equal(cloud_pick("gcs", PGA_CRED_AUTO, &file, &src, &err), 0);
	assert_int_equal(src, CLOUD_STATIC);
	assert_int_equal(cloud_pick("gcs", PGA_CRED_INSTANCE, &keys, &src, &err), 0);
	assert_int_equal(src, CLOUD_GCE_METADATA);

	/* azure: key or SAS, App Service, IMDS */
	assert_int_equal(cloud_pick("azure", PGA_CRED_AUTO, &none, &src, &err), 0);
	assert_int_equal(src, CLOUD_STATIC);
	setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:1", 1);
	assert_int_equal(cloud_pick("azure", PGA_CRED_AUTO, &none, &src, &err), 0);
	assert_int_equal(src, CLOUD_AZURE_IMDS);
	setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token", 1);
	assert_int_equal(cloud_pick("azure", PGA_CRED_AUTO, &none, &src, &err), 0);
	assert_int_equal(src, CLOUD_AZURE_IMDS);	/* needs IDENTITY_HEADER too */
	setenv("IDENTITY_HEADER", "h", 1);
	assert_int_equal(cloud_pick("azure", PGA_CRED_AUTO, &none, &src, &err), 0);
	assert_int_equal(src, CLOUD_APP_SERVICE);
	assert_int_equal(cloud_pick("azure", PGA_CRED_AUTO, &keys, &src, &err), 0);
	assert_int_equal(src, CLOUD_STATIC);
	assert_int_equal(cloud_pick("azure", PGA_CRED_INSTANCE, &none, &src, &err), 0);
	assert_int_equal(src, CLOUD_AZURE_IMDS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_aws_json),
		cmocka_unit_test(test_sts_xml),
		cmocka_unit_test(test_bearer_json),
		cmocka_unit_test(test_pick),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
