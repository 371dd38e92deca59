# pga - see README and INSTALL.  Targets: all deps check demo bench fuzz
# install clean check-versions.  `make check SAN=1` builds with ASan+UBSan.

PGA_VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/pga
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
CC ?= gcc
SAN ?=

PKGS := libpq libzstd libarchive libcurl libbsd inih libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lpthread

ifeq ($(SAN),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS :=
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	  -Wshadow -Wstrict-prototypes -Wformat=2 -Wformat-truncation -fno-strict-aliasing \
	  -D_FILE_OFFSET_BITS=64 -DPGA_VERSION='"$(PGA_VERSION)"' \
	  -I. -I$(shell pg_config --includedir 2>/dev/null) $(PKG_CFLAGS) $(SANFLAGS)
LDFLAGS += $(SANFLAGS)

# every part's sources, then the command layer above them (cmd/, see
# cmd/cmd.h); main.c is linked only into the pga binary
COMMON_SRC := $(wildcard common/*.c)
SPOOL_SRC := $(wildcard spool/*.c)
COLLECT_SRC := $(wildcard collect/*.c)
LOAD_SRC := $(wildcard load/*.c)
SHIP_SRC := $(wildcard ship/*.c)
RESTORE_SRC := $(wildcard restore/*.c)
REPORT_SRC := $(wildcard report/*.c)
CMD_SRC := $(wildcard cmd/*.c)
LIB_SRC := $(COMMON_SRC) $(SPOOL_SRC) $(COLLECT_SRC) $(LOAD_SRC) $(SHIP_SRC) $(RESTORE_SRC) \
	$(REPORT_SRC) $(CMD_SRC)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_SRC := tests/helper/pga-test-helper.c $(wildcard tests/helper/helper_*.c)
HELPER_OBJ := $(HELPER_SRC:%.c=$(BUILD)/%.o)

PGA := $(BUILD)/pga

.PHONY: all deps check unit integration demo bench fuzz fuzz-long install clean \
	check-versions doc torture torture-mutants
.DELETE_ON_ERROR:

all: $(PGA) $(BUILD)/pga-test-helper $(BUILD)/libfailwrite.so

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libpga.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(PGA): $(BUILD)/main.o $(BUILD)/libpga.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/pga-test-helper: $(HELPER_OBJ) $(BUILD)/libpga.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# LD_PRELOAD shim that fails write/fsync with ENOSPC or EIO on demand
$(BUILD)/libfailwrite.so: tests/helper/failwrite.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libpga.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-unused-parameter -o $@ $< $(BUILD)/libpga.a $(LDFLAGS) $(PKG_LIBS) -lcmocka

deps:
	@scripts/deps.sh

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# Tests that measure a rate against wall-clock time run alone, after the
# others: on two cores a neighbour test can starve them below their mark.
TIMED_TESTS := tests/t/4103-ship-rate.t
# The longest start first (prove -j2 takes them in order): the torture's
# smoke (5 min) and the restore scenarios then run beside the rest instead
# of alone at the end.
LONG_TESTS := tests/t/9001-torture.t tests/t/7001-restore-sources.t \
	tests/t/7002-restore-kill.t
PARALLEL_TESTS := $(LONG_TESTS) \
	$(filter-out $(TIMED_TESTS) $(LONG_TESTS),$(sort $(wildcard tests/t/*.t)))
PROVE := PGA_BUILD=$(CURDIR)/$(BUILD) prove --timer

integration: all
	$(PROVE) -j2 $(PARALLEL_TESTS)
	$(PROVE) $(TIMED_TESTS)

check: deps
	$(MAKE) all unit
	$(MAKE) fuzz-smoke
	$(PROVE) -j2 $(PARALLEL_TESTS)
	$(PROVE) $(TIMED_TESTS)

check-versions: deps all
	@PGA_PG_VERSIONS="12 13 14 16 17 18" scripts/deps.sh
	PGA_BUILD=$(CURDIR)/$(BUILD) PGA_TEST_VERSIONS="12 13 14 15 16 17 18" \
		prove --timer tests/t/2*-catalog*.t

# the long modes of the tests that have one: tests/t/9001-torture.t runs
# 1000 kill -9 across collect, ship and load (PGA_TORTURE_KILLS=N for
# another count); its smoke of 30 runs in make check
TORTURE_TESTS := $(shell grep -l PGA_TORTURE tests/t/*.t)
torture: deps all
	PGA_BUILD=$(CURDIR)/$(BUILD) PGA_TORTURE=1 prove -v --timer $(TORTURE_TESTS)

# every tests/mutants/*.patch (one safeguard removed) must make the
# torture's smoke fail; see scripts/mutants.sh
torture-mutants: deps
	@scripts/mutants.sh

demo: deps all
	@scripts/demo.sh $(CURDIR)/$(BUILD)

bench: deps all
	@bench/run.sh $(CURDIR)/$(BUILD)

# ---- fuzzing (clang libFuzzer) ----
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
	$(PKG_CFLAGS) -DPGA_VERSION='"$(PGA_VERSION)"' -D_FILE_OFFSET_BITS=64
# the segment and tar readers need only common/ and the spool library; the
# object stores' answers (fuzz_xml) and json_field with the credential
# replies (fuzz_json) a few ship/ files
FUZZ_SHIP_SRC := ship/objstore_reply.c ship/xml_tag.c ship/base64.c ship/http.c \
	ship/ratelimit.c ship/dest_names.c ship/json_field.c ship/cloud_reply.c
FUZZ_LIB_SRC := $(COMMON_SRC) $(SPOOL_SRC) $(FUZZ_SHIP_SRC)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_SRC)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(PKG_LIBS)

fuzz: $(FUZZ_TARGETS)

fuzz-smoke: fuzz $(PGA)
	@PGA_BUILD=$(BUILD) scripts/fuzz.sh 10

# 10^7 executions of each target (FUZZ_RUNS=N for another count; see
# scripts/fuzz.sh for how long that takes here)
fuzz-long: fuzz $(PGA)
	@PGA_BUILD=$(BUILD) scripts/fuzz.sh --runs $${FUZZ_RUNS:-10000000}

# ---- docs and install ----
doc: $(BUILD)/pga.1

# synopses, options, keys and variables come from the option table
$(BUILD)/pga.1: doc/pga.1.scd scripts/man.sh $(PGA)
	@mkdir -p $(BUILD)
	scripts/man.sh $(PGA) doc/pga.1.scd | sed 's|@DOCDIR@|$(DOCDIR)|g' | scdoc > $@

# Everything under PREFIX but the configuration and the cron file (SYSCONFDIR):
# systemd, systemd-sysusers and systemd-tmpfiles read /usr/local/lib/... too.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(SYSCONFDIR)/pga $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/cron.d \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 0755 $(PGA) $(DESTDIR)$(BINDIR)/pga
	scripts/man.sh $(PGA) doc/pga.1.scd | sed 's|@DOCDIR@|$(DOCDIR)|g' | scdoc \
		> $(DESTDIR)$(MANDIR)/man1/pga.1
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/pga.1
	install -m 0644 spool/FORMAT.md load/SCHEMA.md doc/queries.md doc/custom-metrics.md $(DESTDIR)$(DOCDIR)/
	install -m 0640 pga.conf.example $(DESTDIR)$(SYSCONFDIR)/pga/pga.conf.example
	for f in cron/*.service cron/*.timer; do \
		sed 's|@BINDIR@|$(BINDIR)|g' $$f > $(DESTDIR)$(UNITDIR)/$$(basename $$f); \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$f); done
	install -m 0644 cron/pga.sysusers $(DESTDIR)$(SYSUSERSDIR)/pga.conf
	install -m 0644 cron/pga.tmpfiles $(DESTDIR)$(TMPFILESDIR)/pga.conf
	sed 's|@BINDIR@|$(BINDIR)|g' cron/pga.cron > $(DESTDIR)$(SYSCONFDIR)/cron.d/pga
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/cron.d/pga
	sed 's|@BINDIR@|$(BINDIR)|g' cron/pga-central.cron > $(DESTDIR)$(SYSCONFDIR)/cron.d/pga-central
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/cron.d/pga-central

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(HELPER_OBJ:.o=.d) $(BUILD)/main.d
