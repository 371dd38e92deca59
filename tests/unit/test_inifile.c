/*
 * Unit tests of common/inifile (the pga.conf reader), common/secretfile
 * (the rule for files that hold secrets) and the password detection the
 * configuration uses to apply it.
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

#include "common/config.h"
#include "common/inifile.h"
#include "common/pgutil.h"
#include "common/secretfile.h"

/* Every event as "line:[name]" or "line:key=value|", in one string. */
struct events {
	char log[4096];
	int fail_at_line;	/* a callback fails on this line, 0 never */
};

static int
ev_section(void *ctx, const struct pga_ini_loc *at, const char *name, struct pga_err *err)
{
	struct events *e = ctx;
	size_t n = strlen(e->log);

	snprintf(e->log + n, sizeof(e->log) - n, "%d:[%s]", at->line, name);
	if (at->line == e->fail_at_line)
		return pga_fail(err, PGA_ECONFIG, "no section '%s' here", name);
	return 0;
}

static int
ev_pair(void *ctx, const struct pga_ini_loc *at, const char *key, const char *value,
	struct pga_err *err)
{
	struct events *e = ctx;
	size_t n = strlen(e->log);

	snprintf(e->log + n, sizeof(e->log) - n, "%d:%s=%s|", at->line, key, value);
	if (at->line == e->fail_at_line)
		return pga_fail(err, PGA_ECONFIG, "no key '%s' here", key);
	return 0;
}

static const struct pga_ini_ops ops = {.section = ev_section, .pair = ev_pair};

static int
read_text(const char *text, size_t len, struct events *e, struct pga_err *err)
{
	memset(e->log, 0, sizeof(e->log));
	return pga_ini_read_mem("t.conf", text, len, &ops, e, err);
}

static void
test_syntax(void **state)
{
	static const char text[] =
		"\xef\xbb\xbf# comment\n"
		"  ; another\n"
		"[global]  # after a header\n"
		"\tkey = value with spaces  \r\n"
		"empty =\n"
		"eq = a=b;c#d\n"
		"\n"
		"[dest:x]\n"
		"last=no newline";
	struct events e = {0};
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(read_text(text, sizeof(text) - 1, &e, &err), 0);
	assert_string_equal(e.log, "3:[global]4:key=value with spaces|5:empty=|6:eq=a=b;c#d|"
			    "8:[dest:x]9:last=no newline|");
	/* a BOM is skipped only in front of the first line: elsewhere it is text */
	assert_int_equal(read_text("[a]\n\xef\xbb\xbfk = v\n", 13, &e, &err), 0);
	assert_string_equal(e.log, "1:[a]2:\xef\xbb\xbfk=v|");
}

static void
expect_error(const char *text, size_t len, const char *msg)
{
	struct events e = {0};
	struct pga_err err = {0};

	assert_int_equal(read_text(text, len, &e, &err), PGA_ECONFIG);
	if (strcmp(err.msg, msg) != 0)
		fail_msg("error '%s', wanted '%s'", err.msg, msg);
}

/* Quoted values as postgresql.conf writes them. */
static void
test_quotes(void **state)
{
	static const char text[] =
		"[global]\n"
		"a = \"/var/spool/pga\"\n"
		"b = 'it''s'  # a comment after the quote\n"
		"c = 'tab\\there \\' and \\\\'\n"
		"d = \"say \\\"hi\\\" ; or 'not'\"\n"
		"e = ''\n"
		"f = x'y'\n"
		"g = \"#;\" ; comment\n";
	static const struct {
		const char *text, *err;
	} bad[] = {
		{"[g]\na = 'open\n", "t.conf:2: unterminated quoted value"},
		{"[g]\na = \"open\n", "t.conf:2: unterminated quoted value"},
		{"[g]\na = 'x' y\n", "t.conf:2: syntax error: text after the closing quote"},
		{"[g]\na = 'x\\'\n", "t.conf:2: unterminated quoted value"},
		{"[g]\na = \"x'\n", "t.conf:2: unterminated quoted value"},
	};
	struct events e = {0};
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(read_text(text, sizeof(text) - 1, &e, &err), 0);
	assert_string_equal(e.log, "1:[global]2:a=/var/spool/pga|3:b=it's|"
			    "4:c=tab\there ' and \\|5:d=say \"hi\" ; or 'not'|6:e=|"
			    "7:f=x'y'|8:g=#;|");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(read_text(bad[i].text, strlen(bad[i].text), &e, &err),
				 PGA_ECONFIG);
		assert_non_null(strstr(err.msg, bad[i].err));
	}
}

static void
test_errors(void **state)
{
	struct events e = {.fail_at_line = 2};
	struct pga_err err = {0};

	(void)state;
	expect_error("[a\n", 3, "t.conf:1: unterminated section header");
	expect_error("[a] b\n", 6, "t.conf:1: syntax error: text after the section header's ']'");
	expect_error("\n\nno equals\n", 11, "t.conf:3: syntax error: expected 'key = value', "
		     "'[section]' or a comment");
	expect_error(" = x\n", 5, "t.conf:1: syntax error: no key before '='");
	expect_error("a = 1\0b\n", 8, "t.conf:1: NUL byte in the file (not a text file?)");
	expect_error("a = 1\n\0", 7, "t.conf:2: NUL byte in the file (not a text file?)");
	expect_error("# \0\n", 4, "t.conf:1: NUL byte in the file (not a text file?)");
	/* a callback's error gets file and line in front */
	assert_int_equal(read_text("[a]\nk = v\n", 10, &e, &err), PGA_ECONFIG);
	assert_string_equal(err.msg, "t.conf:2: no key 'k' here");
	assert_string_equal(e.log, "1:[a]2:k=v|");
}

static void
test_line_cap(void **state)
{
	size_t n = PGA_INI_LINE_MAX + 2;
	char *text = malloc(n + 1);
	struct events e = {0};
	struct pga_err err = {0};

	(void)state;
	assert_non_null(text);
	/* exactly PGA_INI_LINE_MAX bytes before the newline: read whole */
	memset(text, 'v', n);
	memcpy(text, "k=", 2);
	text[PGA_INI_LINE_MAX] = '\n';
	assert_int_equal(read_text(text, PGA_INI_LINE_MAX + 1, &e, &err), 0);
	assert_int_equal(strlen(e.log), sizeof(e.log) - 1);	/* the log is cut, not the value */
	/* one byte more: refused, naming the line */
	text[PGA_INI_LINE_MAX] = 'v';
	text[PGA_INI_LINE_MAX + 1] = '\n';
	expect_error(text, n, "t.conf:1: line longer than 1048576 bytes");
	free(text);
}

/* A line that spans the reader's 64 KiB chunks is whole. */
static void
test_file(void **state)
{
	char path[] = "/tmp/pga-unit-ini.XXXXXX";
	int fd = mkstemp(path);
	size_t vlen = 200000;
	char *v = malloc(vlen + 1);
	struct events e = {0};
	struct pga_err err = {0};
	struct stat st;
	FILE *f;

	(void)state;
	assert_true(fd >= 0 && v != NULL);
	for (size_t i = 0; i < vlen; i++)
		v[i] = (char)('a' + i % 26);
	v[vlen] = '\0';
	f = fdopen(fd, "w");
	fprintf(f, "[s]\nk = %s\nafter = 1\n", v);
	fclose(f);
	assert_int_equal(pga_ini_read_file(path, "config file", &ops, &e, &st, &err), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, (off_t)(vlen + 19));
	assert_int_equal(pga_ini_read_file("/tmp", "config file", &ops, &e, &st, &err), PGA_ECONFIG);
	assert_string_equal(err.msg, "config file '/tmp' is a directory");
	assert_int_equal(pga_ini_read_file("/nonexistent/x.conf", "config file", &ops, &e, &st, &err),
			 PGA_ENOTFOUND);
	unlink(path);
	free(v);
}

static void
test_config_mem(void **state)
{
	static const char text[] = "[global]\ncollector = m1\n[target:a]\nconninfo = host=x\n";
	struct pga_config *cfg = NULL;
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(pga_config_load_mem("mem", text, sizeof(text) - 1, &cfg, &err), 0);
	assert_string_equal(cfg->global.collector, "m1");
	assert_int_equal(cfg->ntargets, 1);
	assert_int_equal(cfg->targets[0].line, 3);
	pga_config_free(cfg);
	assert_int_equal(pga_config_load_mem("mem", "[global]\nx = 1\n", 15, &cfg, &err), PGA_ECONFIG);
	assert_string_equal(err.msg, "mem:2: unknown key 'x' in [global]");
	assert_null(cfg);
}

static void
test_secret_rule(void **state)
{
	static const unsigned ok_modes[] = {0600, 0400, 0640, 0440, 0700};
	static const unsigned bad_modes[] = {0644, 0604, 0602, 0601, 0660, 0620, 0650, 0666, 0777};
	struct pga_err err = {0};
	struct stat st;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.st_uid = geteuid();
	for (size_t i = 0; i < sizeof(ok_modes) / sizeof(ok_modes[0]); i++) {
		st.st_mode = S_IFREG | ok_modes[i];
		assert_int_equal(pga_secret_file_check(&st, "key file", "k", &err), 0);
	}
	for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
		char want[32];

		st.st_mode = S_IFREG | bad_modes[i];
		assert_int_equal(pga_secret_file_check(&st, "key file", "k", &err), PGA_EPERM);
		snprintf(want, sizeof(want), "has mode %04o", bad_modes[i]);
		assert_non_null(strstr(err.msg, want));
	}
	/* root's file is fine for anyone; another user's is not */
	st.st_mode = S_IFREG | 0640;
	st.st_uid = 0;
	assert_int_equal(pga_secret_file_check(&st, "key file", "k", &err), 0);
	st.st_uid = geteuid() + 1;
	assert_int_equal(pga_secret_file_check(&st, "key file", "k", &err), PGA_EPERM);
	assert_non_null(strstr(err.msg, "it must belong to the user running pga"));
}

static void
test_has_password(void **state)
{
	(void)state;
	assert_true(pga_conninfo_has_password("host=a password=x"));
	assert_true(pga_conninfo_has_password("host=a password='a b'"));
	assert_true(pga_conninfo_has_password("postgresql://u:pw@h/db"));
	assert_true(pga_conninfo_has_password("postgres://u:p%40w@h:5432/db?sslmode=require"));
	assert_true(pga_conninfo_has_password("postgresql://u@h/db?password=x"));
	assert_false(pga_conninfo_has_password("host=a user=b"));
	assert_false(pga_conninfo_has_password("postgresql://u@h/db"));
	assert_false(pga_conninfo_has_password("host=a password="));
	assert_false(pga_conninfo_has_password("s3://bucket/prefix"));
	assert_false(pga_conninfo_has_password("azure://acct/cont/p"));
	assert_false(pga_conninfo_has_password("file:///srv/archive"));
	/* what libpq cannot parse may still hide one */
	assert_true(pga_conninfo_has_password("host=a 'password=x"));
	assert_true(pga_conninfo_has_password("postgresql://u:pw@h:notaport/db"));
	assert_false(pga_conninfo_has_password("host=a 'unterminated"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_line_cap),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_config_mem),
		cmocka_unit_test(test_secret_rule),
		cmocka_unit_test(test_has_password),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
