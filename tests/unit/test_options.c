/* Unit tests of the option table: its invariants, the parser, the precedence. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/options.h"
#include "report/report.h"

/* Names, variables and flags are unique where they must be. */
static void
test_table_unique(void **state)
{
	for (size_t i = 0; i < pga_nopts; i++) {
		const struct pga_opt *a = &pga_opts[i];
		char ea[96], eb[96], fa[64], fb[64];

		assert_non_null(a->usage ? a->usage : a->doc);
		for (size_t j = i + 1; j < pga_nopts; j++) {
			const struct pga_opt *b = &pga_opts[j];

			if (a->scope == b->scope || (a->scope <= PGA_SCOPE_GLOBAL &&
						     b->scope <= PGA_SCOPE_GLOBAL))
				if (strcmp(a->name, b->name) == 0)
					fail_msg("'%s' declared twice in one scope", a->name);
			if (pga_opt_env(a, ea, sizeof(ea)) && pga_opt_env(b, eb, sizeof(eb)) &&
			    strcmp(ea, eb) == 0)
				fail_msg("'%s' and '%s' share %s", a->name, b->name, ea);
			if ((a->cmds & b->cmds) == 0)
				continue;
			if (strcmp(pga_opt_flag(a, fa, sizeof(fa)), pga_opt_flag(b, fb, sizeof(fb))) == 0)
				fail_msg("'%s' and '%s' share %s in one command", a->name, b->name, fa);
			if (a->short_flag && a->short_flag == b->short_flag)
				fail_msg("'%s' and '%s' share -%c", a->name, b->name, a->short_flag);
		}
	}
}

/* Every row is whole: bounds, choices, flags, the commands it names exist. */
static void
test_table_rows(void **state)
{
	unsigned all = 0;

	for (size_t c = 0; c < pga_ncmds; c++) {
		assert_non_null(pga_cmd_find(pga_cmds[c].name));
		all |= pga_cmds[c].id;
	}
	all |= PGA_CMD_GLOBAL;
	for (size_t i = 0; i < pga_nopts; i++) {
		const struct pga_opt *o = &pga_opts[i];

		if ((o->cmds & ~all) || (o->required & ~o->cmds))
			fail_msg("'%s' names a command that is not there, or needs one it is not for",
				 o->name);
		if (o->scope == PGA_SCOPE_ARGS && o->cmds == 0)
			fail_msg("'%s' is neither a key nor a flag", o->name);
		if (o->scope > PGA_SCOPE_GLOBAL && o->cmds != 0)
			fail_msg("section key '%s' has a flag", o->name);
		if ((o->type == PGA_OPT_BOOL) != (o->cmds != 0 && o->metavar == NULL) &&
		    o->cmds != 0)
			fail_msg("'%s': a switch is an on|off option, a value has a metavar", o->name);
		if (o->type == PGA_OPT_INT && o->min > o->max)
			fail_msg("'%s' has no integer to take", o->name);
		if ((o->type == PGA_OPT_ENUM) != (o->choices != NULL))
			fail_msg("'%s': choices go with enums", o->name);
		if (o->cmds != 0 && o->secret == PGA_SECRET_ALWAYS)
			fail_msg("'%s' is a secret with a flag: argv is public", o->name);
		if (o->kinds != NULL && o->scope != PGA_SCOPE_DEST)
			fail_msg("'%s' names kinds but is no [dest:] key", o->name);
		if (o->inherit != NULL && (o->scope != PGA_SCOPE_TARGET ||
					   pga_opt_find(o->inherit) == NULL))
			fail_msg("'%s' inherits from nothing", o->name);
	}
}

/* Bounds said once: the report's options are the report's limits. */
static void
test_report_bounds(void **state)
{
	const struct pga_opt *top = pga_opt_find("top"), *points = pga_opt_find("points");

	assert_int_equal(top->max, REPORT_TOP_MAX);
	assert_int_equal(atoi(top->def), REPORT_TOP_DEFAULT);
	assert_int_equal(points->max, REPORT_POINTS_MAX);
	assert_int_equal(atoi(points->def), REPORT_POINTS_DEFAULT);
}

static int
parse(unsigned cmd, struct pga_argv *av, struct pga_err *err, ...)
{
	char *argv[16];
	int argc = 0, first;
	va_list ap;

	va_start(ap, err);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	memset(av, 0, sizeof(*av));
	return pga_opts_parse(cmd, argc, argv, av, &first, err);
}

static void
test_parser(void **state)
{
	struct pga_argv av;
	struct pga_err err = {0};

	assert_int_equal(parse(PGA_CMD_COLLECT, &av, &err, "collect", "--workers", "0",
			       "--loop", "--target", "a", NULL), 0);
	assert_int_equal(av.n, 3);
	assert_string_equal(pga_argv_get(&av, "workers"), "0");
	assert_string_equal(pga_argv_get(&av, "loop"), "on");
	/* the key's bounds, said once */
	assert_int_equal(parse(PGA_CMD_COLLECT, &av, &err, "collect", "--workers", "257", NULL),
			 PGA_EINVAL);
	assert_non_null(strstr(err.msg, "invalid --workers '257': 'workers' must be an integer"
			       " from 0 to 256"));
	assert_int_equal(parse(PGA_CMD_COLLECT, &av, &err, "collect", "--dry-run", NULL),
			 PGA_EINVAL);
	assert_non_null(strstr(err.msg, "unknown option '--dry-run'"));
	assert_int_equal(parse(PGA_CMD_COLLECT, &av, &err, "collect", "-x", NULL), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "unknown option '-x'"));
	assert_int_equal(parse(PGA_CMD_LOAD, &av, &err, "load", "-j", NULL), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "missing value for option '-j'"));
	assert_int_equal(parse(PGA_CMD_LOAD, &av, &err, "load", "-j", "3", "--jobs=4", NULL), 0);
	assert_string_equal(pga_argv_get(&av, "load-jobs"), "4");
	assert_int_equal(parse(PGA_CMD_SHIP, &av, &err, "ship", "--loop=on", NULL), PGA_EINVAL);
	assert_int_equal(parse(PGA_CMD_STATUS, &av, &err, "status", "--help", NULL), 1);
	assert_int_equal(parse(PGA_CMD_GLOBAL, &av, &err, "pga", "-V", NULL), 2);
	/* a secret on the command line */
	assert_int_equal(parse(PGA_CMD_LOAD, &av, &err, "load", "--db", "host=x password=y", NULL),
			 PGA_EINVAL);
	assert_null(strstr(err.msg, "password=y"));
	assert_int_equal(parse(PGA_CMD_LOAD, &av, &err, "load", "--db", "host=x", NULL), 0);
}

static void
test_precedence(void **state)
{
	static const char text[] = "[global]\nworkers = 2\nos-stats = on\n"
				   "[target:t]\nconninfo = host=x\n";
	char path[] = "/tmp/pga-unit-opt.XXXXXX";
	struct pga_argv av;
	struct pga_config_src src = {.path = path, .cmd = PGA_CMD_COLLECT, .argv = &av};
	struct pga_config *cfg = NULL;
	struct pga_err err = {0};
	char where[128];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	memset(&av, 0, sizeof(av));
	unsetenv("PGA_WORKERS");
	assert_int_equal(pga_config_resolve(&src, &cfg, &err), 0);
	assert_int_equal(cfg->global.workers, 2);
	assert_non_null(strstr(pga_config_where(cfg, "workers", where, sizeof(where)), ":2"));
	pga_config_free(cfg);
	setenv("PGA_WORKERS", "3", 1);
	setenv("PGA_OS_STATS", "off", 1);
	assert_int_equal(pga_config_resolve(&src, &cfg, &err), 0);
	assert_int_equal(cfg->global.workers, 3);
	/* a target inherits what the environment says of the global key */
	assert_false(cfg->targets[0].os_stats);
	assert_string_equal(pga_config_where(cfg, "workers", where, sizeof(where)),
			    "environment variable PGA_WORKERS");
	pga_config_free(cfg);
	assert_int_equal(parse(PGA_CMD_COLLECT, &av, &err, "collect", "--workers", "4", NULL), 0);
	assert_int_equal(pga_config_resolve(&src, &cfg, &err), 0);
	assert_int_equal(cfg->global.workers, 4);
	assert_true(pga_config_given(cfg, "workers"));
	assert_false(pga_config_given(cfg, "interval"));
	assert_string_equal(pga_config_where(cfg, "workers", where, sizeof(where)), "command line");
	pga_config_free(cfg);
	setenv("PGA_WORKERS", "lots", 1);
	assert_int_equal(pga_config_resolve(&src, &cfg, &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "environment variable PGA_WORKERS"));
	assert_null(cfg);
	unsetenv("PGA_WORKERS");
	unsetenv("PGA_OS_STATS");
	unlink(path);
}

/* A [dest:] key set for a kind that does not use it is refused, with its line. */
static void
test_dest_kinds(void **state)
{
	static const char text[] = "[dest:d]\nurl = file:///tmp/x\nregion = eu-west-1\n"
				   "[dest:e]\nurl = s3://b/p\n";
	struct pga_config *cfg = NULL;
	struct pga_err err = {0};

	assert_int_equal(pga_config_load_mem("mem", text, sizeof(text) - 1, &cfg, &err), 0);
	assert_int_equal(pga_config_dest_check_kind(&cfg->dests[0], "s3", &err), 0);
	assert_int_equal(pga_config_dest_check_kind(&cfg->dests[0], "gcs", &err), 0);
	assert_int_equal(pga_config_dest_check_kind(&cfg->dests[0], "file", &err), PGA_ECONFIG);
	assert_string_equal(err.msg, "'region' (line 3) is for s3 gcs destinations, not file");
	/* the default region is the kind's: none in the table */
	assert_null(cfg->dests[1].region);
	pga_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_unique),
		cmocka_unit_test(test_table_rows),
		cmocka_unit_test(test_report_bounds),
		cmocka_unit_test(test_parser),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_dest_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
