# acceptwatch: one Makefile for the shim, the reader and the tests.
#   make          build shim/libacceptwatch.so and tools/acceptwatch
#   make help     every target, one line each
# Local overrides (CC, CFLAGS, PREFIX...) go in config.mak.
-include config.mak

CC ?= cc
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib/acceptwatch
MANDIR ?= $(PREFIX)/share/man
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
DATADIR ?= $(PREFIX)/share/acceptwatch
DESTDIR ?=

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -MMD -MP -Ishim
CFLAGS ?=
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS)
SHIM_CFLAGS = -fPIC -fvisibility=hidden -ftls-model=initial-exec \
	$(shell pkg-config --cflags libunwind 2>/dev/null)
SHIM_LDFLAGS = -shared -Wl,--version-script=shim/libacceptwatch.map \
	-Wl,-z,now -Wl,-z,relro -Wl,--no-undefined
# The fd map's pages are wiped in children, on any page size up to 64 KiB
# (shim/listener_table.h): the library's segments align to that.
SHIM_LDFLAGS += -Wl,-z,max-page-size=65536
SHIM_LIBS = -ldl -lpthread
# The exporter (tools/serve.c) serves HTTP with libmicrohttpd; the reader
# names stack frames with elfutils' libdwfl.
MHD_CFLAGS = $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS = $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
DW_LIBS = $(shell pkg-config --libs libdw 2>/dev/null || echo -ldw -lelf)
TOOL_LIBS = -lpthread -lm $(MHD_LIBS) $(DW_LIBS)
# The exporter gzips its answer when the scraper accepts it (zlib).
TOOL_LIBS += $(shell pkg-config --libs zlib 2>/dev/null || echo -lz)

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer

# --- sources, by wildcard: a new file needs no edit here -----------------
# shim/*.c make the library, tools/*.c the reader; every other C file is a
# program of its own: tests/unit/test_*.c a unit test, tests/e2e/*.c a test
# program, tests/e2e/lib/*.c a preloadable test library, tests/bench/*.c a
# benchmark, tests/fuzz/*.c a fuzzer. Tests and fuzzers link the module
# under test from the variant's archives (below): no link lists.
SHIM_SRC := $(sort $(wildcard shim/*.c))
TOOL_SRC := $(sort $(wildcard tools/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
E2E_SRC := $(sort $(wildcard tests/e2e/*.c))
E2E_LIB_SRC := $(sort $(wildcard tests/e2e/lib/*.c))
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/*.c))

# --- build variants ------------------------------------------------------
# Each source is compiled once per variant, into build/VARIANT/obj/PATH.o
# with its own dependency file (-MMD -MP, read at the end of this file):
#   rel       the installed build (and the release-build tests)
#   asan      ASan+UBSan: what the tests run
#   tsan      ThreadSanitizer: the threaded paths
#   smallmap  the shim with a flat fd map of 1024 bytes: descriptors past it
#             take the paged map, as those past 65535 do in the real one
#   tsc       the shim counting in time-stamp counter ticks whatever
#             clocksource the kernel keeps time with: the accept path's TSC
#             copy runs in tests on any x86-64 host
#   fuzz      clang and libFuzzer (its own rules, further down)
B := build
VARIANTS := rel asan tsan smallmap tsc
VFLAGS_rel :=
VFLAGS_asan := $(SAN_FLAGS)
VFLAGS_tsan := $(TSAN_FLAGS)
VFLAGS_smallmap := -DAW_FD_MAP=1024
VFLAGS_tsc := -DAW_TEST_TSC
# The sanitized shims are preloaded into sanitized test programs only: the
# program carries the sanitizer runtime, so they link without it.
SOFLAGS_rel = $(SHIM_LDFLAGS)
SOFLAGS_smallmap = $(SHIM_LDFLAGS)
SOFLAGS_tsc = $(SHIM_LDFLAGS)
SOFLAGS_asan = -shared -Wl,--version-script=shim/libacceptwatch.map
SOFLAGS_tsan = $(SOFLAGS_asan)
SOFLAGS_asan += -Wl,-z,max-page-size=65536

# $(call obj,VARIANT,SOURCES): their objects.
obj = $(patsubst %.c,$(B)/$(1)/obj/%.o,$(2))
TOOL_CPPFLAGS = -Itools $(MHD_CFLAGS) -DAW_LIBDIR='"$(LIBDIR)"'
CMOCKA_CFLAGS = $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
# A program built from tests/ links the variant's archives: the linker takes
# the members it needs, so no test keeps a link list.
ARCHIVES = -Wl,--start-group $(B)/$(1)/libaw-tools.a $(B)/$(1)/libaw-shim.a \
	-Wl,--end-group
PROG_LIBS = $(TOOL_LIBS) $(SHIM_LIBS) -lm -ldl

# $(call link_prog,VARIANT,LIBS): link $< with the variant's archives. The
# members the linker took (its map) become the program's prerequisites in
# $@.d: it is relinked when one of them changes, and only then.
define link_prog
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(VFLAGS_$(1)) -o $@ $< $(call ARCHIVES,$(1)) $(2) \
		-Wl,-Map=$@.map
	$(call members_d,$(1))
endef
define members_d
	@sed -n 's,^$(B)/$(1)/libaw-\([a-z]*\)\.a(\(.*\))$$,$(B)/$(1)/obj/\1/\2,p' \
		$@.map >$@.members && \
	{ printf '%s:' $@; printf ' %s' $$(cat $@.members); echo; \
	  sed 's/$$/:/' $@.members; } >$@.d; rm -f $@.map $@.members
endef

# $(call archive,SYMBOLS): the prerequisite objects that define none of
# SYMBOLS, in the archive $@.
empty :=
space := $(empty) $(empty)
define archive
	@rm -f $@
	$(AR) rcs $@ $$(for o in $(filter %.o,$^); do \
		nm -g --defined-only $$o | awk '{print $$NF}' | \
		grep -qxE '$(subst $(space),|,$(strip $(1)))' || echo $$o; done)
endef
# The wrappers the shim exports (its version script's global names).
SHIM_EXPORTS := $(shell sed -n \
	'/global:/,/local:/s/^[[:space:]]*\([A-Za-z0-9_]*\);.*/\1/p' \
	shim/libacceptwatch.map)

define variant_rules
$(B)/$(1)/obj/shim/%.o: shim/%.c
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$(VFLAGS_$(1)) $$(SHIM_CFLAGS) -c -o $$@ $$<

$(B)/$(1)/obj/tests/e2e/lib/%.o: tests/e2e/lib/%.c
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$(VFLAGS_$(1)) -fPIC -c -o $$@ $$<

$(B)/$(1)/obj/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$(VFLAGS_$(1)) $$(TOOL_CPPFLAGS) $$(CMOCKA_CFLAGS) \
		-c -o $$@ $$<

# The reader's objects but the one with main().
$(B)/$(1)/libaw-tools.a: $$(call obj,$(1),$$(TOOL_SRC))
	$$(call archive,main)

# The shim's objects but those that define its exported wrappers: a test
# program linking those would wrap its own libc calls.
$(B)/$(1)/libaw-shim.a: $$(call obj,$(1),$$(SHIM_SRC)) shim/libacceptwatch.map
	$$(call archive,$$(SHIM_EXPORTS))

$(B)/$(1)/libacceptwatch.so: $$(call obj,$(1),$$(SHIM_SRC)) shim/libacceptwatch.map
	$$(CC) $$(ALL_CFLAGS) $$(VFLAGS_$(1)) $$(SOFLAGS_$(1)) -o $$@ \
		$$(filter %.o,$$^) $$(SHIM_LIBS)

$(B)/$(1)/acceptwatch: $$(call obj,$(1),$$(TOOL_SRC))
	$$(CC) $$(ALL_CFLAGS) $$(VFLAGS_$(1)) -o $$@ $$^ $$(TOOL_LIBS)

$(B)/$(1)/unit/%: $(B)/$(1)/obj/tests/unit/%.o | $(B)/$(1)/libaw-tools.a \
		$(B)/$(1)/libaw-shim.a
	$$(call link_prog,$(1),$$(CMOCKA_LIBS) $$(PROG_LIBS))

$(B)/$(1)/tests/lib%.so: $(B)/$(1)/obj/tests/e2e/lib/%.o
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$(VFLAGS_$(1)) -shared -o $$@ $$< -ldl

$(B)/$(1)/tests/%: $(B)/$(1)/obj/tests/e2e/%.o | $(B)/$(1)/libaw-tools.a \
		$(B)/$(1)/libaw-shim.a
	$$(call link_prog,$(1),$$(PROG_LIBS))

$(B)/$(1)/bench/%: $(B)/$(1)/obj/tests/bench/%.o | $(B)/$(1)/libaw-tools.a \
		$(B)/$(1)/libaw-shim.a
	$$(call link_prog,$(1),$$(PROG_LIBS))
endef
$(foreach v,$(VARIANTS),$(eval $(call variant_rules,$(v))))
# Objects are kept (no intermediate files), a failed recipe leaves no target.
.SECONDARY:
.DELETE_ON_ERROR:

SHIM_LIB := shim/libacceptwatch.so
TOOL_BIN := tools/acceptwatch
ASAN_SHIM := $(B)/asan/libacceptwatch.so
TSAN_SHIM := $(B)/tsan/libacceptwatch.so
SMALLMAP_SHIM := $(B)/smallmap/libacceptwatch.so
TSC_SHIM := $(B)/tsc/libacceptwatch.so
ASAN_TOOL := $(B)/asan/acceptwatch
TSAN_TOOL := $(B)/tsan/acceptwatch
E2E_BIN := $(E2E_SRC:tests/e2e/%.c=$(B)/asan/tests/%)
E2E_TSAN_BIN := $(E2E_SRC:tests/e2e/%.c=$(B)/tsan/tests/%)
E2E_REL_BIN := $(E2E_SRC:tests/e2e/%.c=$(B)/rel/tests/%) \
	$(E2E_LIB_SRC:tests/e2e/lib/%.c=$(B)/rel/tests/lib%.so) \
	$(B)/rel/tests/server-static
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(B)/rel/bench/%)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/asan/unit/%)
# Unit tests that start threads run under TSan as well.
UNIT_TSAN_SRC := $(shell grep -l pthread_create $(UNIT_SRC) /dev/null)
UNIT_TSAN_BIN := $(UNIT_TSAN_SRC:tests/unit/%.c=$(B)/tsan/unit/%)

.PHONY: all deps bench-deps check demo bench install uninstall clean format \
	lint cpython-check test-build unit unit-build e2e fuzz help

all: $(SHIM_LIB) $(TOOL_BIN) ## the shim and the reader (release build)

$(SHIM_LIB): $(call obj,rel,$(SHIM_SRC)) shim/libacceptwatch.map
	$(CC) $(ALL_CFLAGS) $(SHIM_LDFLAGS) -o $@ $(filter %.o,$^) $(SHIM_LIBS)

$(TOOL_BIN): $(call obj,rel,$(TOOL_SRC))
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TOOL_LIBS)

# A static build of the test server: a program LD_PRELOAD cannot reach.
$(B)/rel/tests/server-static: $(B)/rel/obj/tests/e2e/server.o
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -static -o $@ $< -lpthread -lm

# --- dependencies --------------------------------------------------------
# Detect with pkg-config, headers and commands, not dpkg: a fresh machine
# ships LLVM's libunwind-14-dev, which provides the package name but not our
# libunwind. As root, install what is missing; installing must not start
# the packaged services (nginx, redis): policy-rc.d says no for the length
# of the install. As a user, install nothing: a package the build needs
# stops it; any other (a peer a test runs against, clang for the fuzzer,
# the linters) is named on one line and the tests that need it skip.
deps: ## install missing Debian packages (as root); as a user, name them
	@build=""; peers=""; \
	need_build() { eval "$$2" >/dev/null 2>&1 || build="$$build $$1"; }; \
	need() { eval "$$2" >/dev/null 2>&1 || peers="$$peers $$1"; }; \
	need_build pkg-config "pkg-config --version"; \
	need_build libunwind-dev "pkg-config --exists libunwind"; \
	need_build libcmocka-dev "pkg-config --exists cmocka"; \
	need_build libdw-dev "pkg-config --exists libdw"; \
	need_build libmicrohttpd-dev "pkg-config --exists libmicrohttpd"; \
	need_build binutils "command -v nm && command -v ar && command -v objcopy"; \
	need_build uthash-dev "test -f /usr/include/uthash.h"; \
	need_build zlib1g-dev "pkg-config --exists zlib"; \
	need xz-utils "command -v xz"; \
	need libc6-dbg "sh tests/libc_debug.sh"; \
	need iproute2 "command -v ip && command -v ss"; \
	need procps "command -v sysctl"; \
	need util-linux "command -v unshare && command -v setpriv"; \
	need valgrind "command -v valgrind"; \
	need strace "command -v strace"; \
	need nginx "command -v nginx || test -x /usr/sbin/nginx"; \
	need redis-server "command -v redis-server"; \
	need haproxy "command -v haproxy || test -x /usr/sbin/haproxy"; \
	need apache2 "test -x /usr/sbin/apache2"; \
	need prometheus "command -v prometheus && command -v promtool"; \
	need clang "command -v clang"; \
	need cppcheck "command -v cppcheck"; \
	need clang-format "command -v clang-format"; \
	need systemd "command -v systemd-analyze"; \
	need python3 "command -v python3"; \
	need curl "command -v curl"; \
	need jq "command -v jq"; \
	need golang-go "command -v go"; \
	missing="$$build$$peers"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		if [ -n "$$build" ]; then \
			echo "acceptwatch: the build needs:$$build (sudo make deps installs them)"; \
			exit 1; fi; \
		echo "acceptwatch: not root, not installing:$$peers (tests that need them skip; sudo make deps installs them)"; \
		exit 0; \
	fi; \
	echo "acceptwatch: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	rc=/usr/sbin/policy-rc.d; made_rc=; \
	if [ ! -e $$rc ]; then printf '#!/bin/sh\nexit 101\n' >$$rc; \
		chmod +x $$rc; made_rc=1; fi; \
	apt-get update -qq && apt-get install -y -qq$$missing >/dev/null; \
	status=$$?; [ -n "$$made_rc" ] && rm -f $$rc; exit $$status

# --- fuzzing (clang, libFuzzer) -----------------------------------------
# make fuzz: the segment fuzzer for $(FUZZ_SECONDS); make check runs it for
# 60 s (tests/e2e/test_reader_fuzz.sh). Corpus in build/fuzz/corpus. The
# fuzz variant: the reader's objects built by clang, instrumented for the
# fuzzer, in an archive each fuzzer links. Without clang no fuzzer is
# built, and the fuzz test skips.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 600
FUZZ_CFLAGS := -std=gnu11 -O1 -g -D_GNU_SOURCE -MMD -MP -Ishim $(TOOL_CPPFLAGS) \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_BIN := $(if $(shell command -v $(FUZZ_CC) 2>/dev/null),\
	$(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%))

$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(B)/fuzz/libaw-tools.a: $(call obj,fuzz,$(TOOL_SRC))
	$(call archive,main)

$(B)/fuzz/%: $(B)/fuzz/obj/tests/fuzz/%.o | $(B)/fuzz/libaw-tools.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(B)/fuzz/libaw-tools.a $(TOOL_LIBS) -Wl,-Map=$@.map
	$(call members_d,fuzz)

fuzz: test-build ## the segment fuzzer for FUZZ_SECONDS (600)
	AW_ROOT=$(CURDIR) AW_FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/e2e/test_reader_fuzz.sh

# --- tests ---------------------------------------------------------------
test-build: ## build everything the tests run
test-build: all $(ASAN_SHIM) $(TSAN_SHIM) $(SMALLMAP_SHIM) $(TSC_SHIM) \
	$(ASAN_TOOL) \
	$(TSAN_TOOL) $(E2E_BIN) $(E2E_TSAN_BIN) $(E2E_REL_BIN) $(BENCH_BIN) \
	$(UNIT_BIN) $(UNIT_TSAN_BIN) $(FUZZ_BIN)

unit-build: $(UNIT_BIN) $(UNIT_TSAN_BIN) ## build the unit tests

unit: unit-build ## run the unit tests (AW_TEST_FILTER=name picks some)
	AW_TEST_KIND=unit bash tests/run.sh

e2e: test-build ## run the end-to-end tests (AW_TEST_FILTER=name picks some)
	AW_TEST_KIND=e2e bash tests/run.sh

check: deps ## deps, build, every test (sanitizers included)
	$(MAKE) test-build
	bash tests/run.sh

help: ## this list
	@echo "make TARGET, where TARGET is one of:"
	@sed -n 's/^\([a-z0-9-]*\):.*## \(.*\)/\1|\2/p' Makefile | \
		awk -F'|' '{printf "  %-15s %s\n", $$1, $$2}'

demo: deps ## a slow demo server under the shim, and the reader's summary
	$(MAKE) all
	bash tests/demo.sh

# CPython's socket, server, asyncio, multiprocessing and subprocess tests,
# with and without the shim: the same results, no segment left (~10 min).
cpython-check: all ## CPython's socket tests with and without the shim (~10 min)
	bash tests/cpython.sh

# The peers the benchmark compares with (ltrace, bpftrace): installed for it
# alone, as root, when missing.
bench-deps: deps ## the benchmark's peers (ltrace, bpftrace), as root
	@missing=""; \
	command -v ltrace >/dev/null || missing="$$missing ltrace"; \
	command -v bpftrace >/dev/null || missing="$$missing bpftrace"; \
	if [ -z "$$missing" ] || [ "$$(id -u)" != 0 ]; then exit 0; fi; \
	echo "acceptwatch: installing$$missing (bench peers)"; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing \
		>/dev/null || echo "acceptwatch: could not install$$missing"

bench: bench-deps ## benchmarks (not part of check)
	$(MAKE) all $(E2E_REL_BIN) $(BENCH_BIN)
	bash tests/bench/run.sh
	bash tests/bench/watch.sh
	bash tests/bench/host.sh

# --- install -------------------------------------------------------------
# The systemd units (dist/systemd) name the default paths; installed with
# the ones of this PREFIX. The preload drop-in is an example to copy.
SYSTEMD_UNITS := $(notdir $(wildcard dist/systemd/*.service dist/systemd/*.timer))
SYSTEMD_PATHS = -e 's,/usr/local/bin/acceptwatch,$(BINDIR)/acceptwatch,g' \
	-e 's,/usr/local/lib/acceptwatch,$(LIBDIR),g'
install: all ## install under DESTDIR/PREFIX
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)
	install -m 0755 $(TOOL_BIN) $(DESTDIR)$(BINDIR)/acceptwatch
	install -m 0755 $(SHIM_LIB) $(DESTDIR)$(LIBDIR)/libacceptwatch.so
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 0644 tools/acceptwatch.1 $(DESTDIR)$(MANDIR)/man1/acceptwatch.1
	install -m 0644 shim/libacceptwatch.7 $(DESTDIR)$(MANDIR)/man7/libacceptwatch.7
	install -d $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(DATADIR)
	for f in $(SYSTEMD_UNITS); do \
		sed $(SYSTEMD_PATHS) dist/systemd/$$f >$(DESTDIR)$(SYSTEMDDIR)/$$f && \
		chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/$$f || exit 1; done
	sed $(SYSTEMD_PATHS) dist/systemd/acceptwatch-preload.conf \
		>$(DESTDIR)$(DATADIR)/acceptwatch-preload.conf
	install -d $(DESTDIR)$(DATADIR)/prometheus
	install -m 0644 dist/prometheus/acceptwatch-rules.yml \
		$(DESTDIR)$(DATADIR)/prometheus/acceptwatch-rules.yml

uninstall: ## remove what install put
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDDIR)/,$(SYSTEMD_UNITS))
	rm -f $(DESTDIR)$(DATADIR)/acceptwatch-preload.conf
	rm -f $(DESTDIR)$(DATADIR)/prometheus/acceptwatch-rules.yml
	-rmdir $(DESTDIR)$(DATADIR)/prometheus 2>/dev/null
	-rmdir $(DESTDIR)$(DATADIR) 2>/dev/null
	rm -f $(DESTDIR)$(BINDIR)/acceptwatch $(DESTDIR)$(LIBDIR)/libacceptwatch.so
	rm -f $(DESTDIR)$(MANDIR)/man1/acceptwatch.1 $(DESTDIR)$(MANDIR)/man7/libacceptwatch.7
	-rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null

# --- Debian package -----------------------------------------------------
# make deb: dpkg-buildpackage -b -us -uc (debian/) on a copy of the tree in
# build/deb, so that the .deb lands there and not beside the tree; then
# lintian, which must find no error and no warning. make deb-check: that,
# then tests/pkg/deb_install.sh installs it on this machine, preloads it
# into nginx through the installed drop-in, reads figures, purges it and
# finds nothing left (as root; CI runs it after make check).
DEB_TOOLS := debhelper dpkg-dev fakeroot lintian
.PHONY: deb deb-deps deb-check
deb-deps: deps
	@missing=""; for p in $(DEB_TOOLS); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "acceptwatch: make deb needs:$$missing"; exit 1; fi; \
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
		install -y -qq$$missing >/dev/null

deb: deb-deps ## a Debian package in build/deb, lintian clean
	rm -rf $(B)/deb && mkdir -p $(B)/deb/src
	tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C $(B)/deb/src
	cd $(B)/deb/src && dpkg-buildpackage -b -us -uc
	lintian --fail-on error,warning --tag-display-limit 0 $(B)/deb/*.changes

deb-check: deb ## the package installed, used with nginx, purged (root)
	bash tests/pkg/deb_install.sh $(B)/deb

format: ## clang-format every C file
	clang-format -i shim/*.[ch] tools/*.[ch] tests/unit/*.c tests/e2e/*.c \
		tests/e2e/lib/*.[ch] tests/bench/*.c $(wildcard tests/fuzz/*.c)

lint: ## cppcheck
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr -D_GNU_SOURCE -Ishim -Itools \
		--suppress=missingIncludeSystem shim tools tests

clean: ## remove the build
	rm -rf $(B) $(SHIM_LIB) $(TOOL_BIN)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
