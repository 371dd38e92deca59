/* ship/dest_s3: the AWS credentials file, read with common/inifile. */
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

#include "common/config.h"
#include "ship/dest_s3.h"

static char path[] = "/tmp/pga-creds-XXXXXX";

static int
creds(const char *text, const char *profile, struct s3_creds *c, struct pga_err *err)
{
	struct pga_dest d = {.credentials_file = path, .profile = (char *)profile};
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
	return s3_resolve_creds(&d, c, err);
}

static void
test_profiles(void **state)
{
	struct s3_creds c;
	struct pga_err err = {0};
	char text[8192], token[3001];

	(void)state;
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	/* [profile NAME] as the config file spells it; a value keeps " ;" and "#" */
	assert_int_equal(creds("# comment\n[default]\naws_access_key_id = D\n"
			       "aws_secret_access_key = d\n\n[profile ship]\r\n"
			       "aws_access_key_id=AK\n aws_secret_access_key = s3c ;ret#x \n",
			       "ship", &c, &err), 0);
	assert_string_equal(c.id, "AK");
	assert_string_equal(c.secret, "s3c ;ret#x");
	assert_string_equal(c.token, "");
	assert_int_equal(creds("[default]\naws_access_key_id = D\naws_secret_access_key = d\n",
			       NULL, &c, &err), 0);
	assert_string_equal(c.id, "D");
	/* a session token far past inih's 200-byte lines */
	memset(token, 'T', sizeof(token) - 1);
	token[sizeof(token) - 1] = '\0';
	snprintf(text, sizeof(text), "[a]\naws_access_key_id=x\naws_secret_access_key=y\n"
		 "aws_session_token = %s\n", token);
	assert_int_equal(creds(text, "a", &c, &err), 0);
	assert_string_equal(c.token, token);
	/* the profile missing */
	assert_int_equal(creds("[a]\naws_access_key_id=x\naws_secret_access_key=y\n", "b", &c,
			       &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "in profile 'b'"));
}

static void
test_refused(void **state)
{
	struct s3_creds c;
	struct pga_err err = {0};
	char text[8192], msg[600];

	(void)state;
	/* not INI: the file and line are named, nothing is half-read */
	assert_true(creds("[a]\naws_access_key_id=x\nthis is not a pair\n"
			  "aws_secret_access_key=y\n", "a", &c, &err) < 0);
	snprintf(msg, sizeof(msg), "%s:3: ", path);
	assert_non_null(strstr(err.msg, msg));
	assert_string_equal(c.id, "");
	/* a key longer than it can hold is refused, not cut */
	memset(text, 0, sizeof(text));
	strcpy(text, "[a]\naws_secret_access_key=y\naws_access_key_id=");
	memset(text + strlen(text), 'k', 300);
	strcat(text, "\n");
	assert_true(creds(text, "a", &c, &err) < 0);
	assert_non_null(strstr(err.msg, "aws_access_key_id is longer than 255 bytes"));
	/* a file open to others is refused */
	assert_int_equal(creds("[a]\naws_access_key_id=x\naws_secret_access_key=y\n", "a", &c,
			       &err), 0);
	chmod(path, 0644);
	{
		struct pga_dest d = {.credentials_file = path, .profile = (char *)"a"};

		assert_true(s3_resolve_creds(&d, &c, &err) < 0);
		assert_non_null(strstr(err.msg, "has mode 0644"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_refused),
	};
	int fd = mkstemp(path), rc;

	if (fd < 0)
		return 1;
	close(fd);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
