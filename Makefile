# acceptwatch: one Makefile for the shim, the reader and the tests.
#   make          build shim/libacceptwatch.so and tools/acceptwatch
#   make deps     install missing Debian packages (as root), or say how
#   make check    deps, build, every test (sanitizers included)
#   make demo     a slow demo server under the shim, and the reader's summary
#   make bench    benchmarks (not part of check)
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
SHIM_LIBS = -ldl -lpthread
# The exporter (tools/serve.c) serves HTTP with libmicrohttpd; the reader
# names stack frames with elfutils' libdwfl.
MHD_CFLAGS = $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS = $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
DW_LIBS = $(shell pkg-config --libs libdw 2>/dev/null || echo -ldw -lelf)
TOOL_LIBS = -lpthread -lm $(MHD_LIBS) $(DW_LIBS)

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer

SHIM_SRC := $(sort $(wildcard shim/*.c))
TOOL_SRC := $(sort $(wildcard tools/*.c))
E2E_SRC := $(sort $(wildcard tests/e2e/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

B := build
SHIM_OBJ = $(SHIM_SRC:%.c=$(B)/$(1)/%.o)
TOOL_OBJ = $(TOOL_SRC:%.c=$(B)/$(1)/%.o)

SHIM_LIB := shim/libacceptwatch.so
TOOL_BIN := tools/acceptwatch
ASAN_SHIM := $(B)/asan/libacceptwatch.so
TSAN_SHIM := $(B)/tsan/libacceptwatch.so
SMALLMAP_SHIM := $(B)/smallmap/libacceptwatch.so
ASAN_TOOL := $(B)/asan/acceptwatch
TSAN_TOOL := $(B)/tsan/acceptwatch
E2E_BIN := $(E2E_SRC:tests/e2e/%.c=$(B)/asan/tests/%)
E2E_TSAN_BIN := $(E2E_SRC:tests/e2e/%.c=$(B)/tsan/tests/%)
E2E_REL_BIN := $(E2E_SRC:tests/e2e/%.c=$(B)/rel/tests/%)
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(B)/rel/bench/%)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/asan/tests/%)
# Unit tests of threaded code, built under TSan as well (tests/run.sh runs
# them after the ASan ones).
UNIT_TSAN := test_event_ring
UNIT_TSAN_BIN := $(UNIT_TSAN:%=$(B)/tsan/unit/%)

# What each unit test links besides itself: the module under test.
UNIT_DEPS_test_histogram := tools/histogram.c
UNIT_DEPS_test_abi :=
UNIT_DEPS_test_config := shim/config.c
UNIT_DEPS_test_segment_check := tools/segment_check.c
UNIT_DEPS_test_format := tools/format.c tools/histogram.c
UNIT_DEPS_test_segment_stacks := tools/segment_check.c
UNIT_DEPS_test_netstat := tools/netstat.c
UNIT_DEPS_test_totals := tools/totals.c tools/histogram.c
UNIT_DEPS_test_bypass := tools/bypass.c tools/procinfo.c
UNIT_DEPS_test_segment_name := tools/segment_name.c
# The reader's verdicts with what they read: snapshots, live figures.
VERDICT_DEPS := tools/verdict.c tools/live.c tools/sockdiag.c \
	tools/format.c tools/histogram.c tools/segment_reader.c \
	tools/segment_check.c tools/segment_name.c tools/procinfo.c \
	tools/bypass.c tools/stack_frames.c tools/symbolize.c tools/event_ring.c
UNIT_DEPS_test_verdict := $(VERDICT_DEPS)
UNIT_LIBS_test_verdict = $(DW_LIBS) -lpthread
UNIT_DEPS_test_verdict_window := $(VERDICT_DEPS) tools/recent.c
UNIT_LIBS_test_verdict_window = $(DW_LIBS) -lpthread
UNIT_DEPS_test_check_model := $(VERDICT_DEPS) tools/recent.c \
	tools/gather.c tools/check_model.c
UNIT_LIBS_test_check_model = $(DW_LIBS) -lpthread
UNIT_DEPS_test_top_model := $(VERDICT_DEPS) tools/recent.c \
	tools/gather.c tools/top_model.c
UNIT_LIBS_test_top_model = $(DW_LIBS) -lpthread
UNIT_DEPS_test_report_prom := tools/report_prom.c tools/report_text.c \
	tools/format.c tools/segment_reader.c tools/segment_check.c \
	tools/segment_name.c tools/error.c \
	tools/procinfo.c tools/bypass.c tools/live.c tools/totals.c \
	tools/sockdiag.c tools/stack_frames.c tools/symbolize.c tools/histogram.c \
	tools/event_ring.c
UNIT_LIBS_test_report_prom = $(DW_LIBS) -lpthread
UNIT_DEPS_test_usage := tools/usage.c
UNIT_DEPS_test_event_ring := shim/segment_writer.c tools/event_ring.c
UNIT_LIBS_test_event_ring = -lpthread
UNIT_DEPS_test_stack_frames := tools/stack_frames.c tools/symbolize.c
UNIT_DEPS_test_sample_task := tools/sample_task.c
UNIT_DEPS_test_sample_listen := tools/sample_listen.c tools/sockdiag.c
# Libraries a unit test needs besides cmocka.
UNIT_LIBS_test_stack_frames = $(DW_LIBS) -lpthread

DEB_PACKAGES := libunwind-dev libdw-dev libcmocka-dev pkg-config \
	iproute2 procps util-linux valgrind strace binutils xz-utils libc6-dbg

.PHONY: all deps bench-deps check demo bench install uninstall clean format lint cpython-check \
	test-build unit e2e

all: $(SHIM_LIB) $(TOOL_BIN)

# --- release build ---------------------------------------------------------
$(B)/rel/shim/%.o: shim/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SHIM_CFLAGS) -c -o $@ $<

$(B)/rel/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itools $(MHD_CFLAGS) -DAW_LIBDIR='"$(LIBDIR)"' -c -o $@ $<

$(SHIM_LIB): $(call SHIM_OBJ,rel) shim/libacceptwatch.map
	$(CC) $(ALL_CFLAGS) $(SHIM_LDFLAGS) -o $@ $(call SHIM_OBJ,rel) $(SHIM_LIBS)

$(TOOL_BIN): $(call TOOL_OBJ,rel)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(TOOL_LIBS)

# --- sanitizer builds for the tests -------------------------------------
$(B)/asan/shim/%.o: shim/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(SHIM_CFLAGS) -c -o $@ $<

$(B)/asan/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itools $(SAN_FLAGS) -DAW_LIBDIR='"$(LIBDIR)"' -c -o $@ $<

$(B)/tsan/shim/%.o: shim/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(TSAN_FLAGS) $(SHIM_CFLAGS) -c -o $@ $<

$(B)/tsan/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itools $(TSAN_FLAGS) -DAW_LIBDIR='"$(LIBDIR)"' -c -o $@ $<

# The sanitized shim is preloaded into sanitized test programs only: their
# executable already carries the sanitizer runtime, so it comes first.
$(ASAN_SHIM): $(call SHIM_OBJ,asan) shim/libacceptwatch.map
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -shared \
		-Wl,--version-script=shim/libacceptwatch.map -o $@ \
		$(call SHIM_OBJ,asan) $(SHIM_LIBS)

$(TSAN_SHIM): $(call SHIM_OBJ,tsan) shim/libacceptwatch.map
	$(CC) $(ALL_CFLAGS) $(TSAN_FLAGS) -shared \
		-Wl,--version-script=shim/libacceptwatch.map -o $@ \
		$(call SHIM_OBJ,tsan) $(SHIM_LIBS)

$(ASAN_TOOL): $(call TOOL_OBJ,asan)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(TOOL_LIBS)

# The reader takes snapshots in threads (tools/gather.c).
$(TSAN_TOOL): $(call TOOL_OBJ,tsan)
	$(CC) $(ALL_CFLAGS) $(TSAN_FLAGS) -o $@ $^ $(TOOL_LIBS)

$(B)/asan/tests/%: tests/e2e/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $< -lpthread -lm -ldl

$(B)/rel/tests/%: tests/e2e/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -lpthread -lm -ldl

# A static build of the test server: a program LD_PRELOAD cannot reach.
$(B)/rel/tests/server-static: tests/e2e/server.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -static -o $@ $< -lpthread -lm

# A library for the constructor-order test (tests/e2e/test_early.sh).
$(B)/rel/tests/libearly.so: tests/e2e/lib/early.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -o $@ $<

# The shim with a flat fd map of 1024 bytes: descriptors past it take the
# paged map, as those past 65535 do in the real one, under any fd limit.
$(B)/smallmap/shim/%.o: shim/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SHIM_CFLAGS) -DAW_FD_MAP=1024 -c -o $@ $<

$(SMALLMAP_SHIM): $(call SHIM_OBJ,smallmap) shim/libacceptwatch.map
	$(CC) $(ALL_CFLAGS) $(SHIM_LDFLAGS) -o $@ $(call SHIM_OBJ,smallmap) \
		$(SHIM_LIBS)

# A library whose constructor listens (tests/e2e/test_loader_lock.sh).
$(B)/rel/tests/libctorlisten.so: tests/e2e/lib/ctorlisten.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -o $@ $<

# Counts the shim's own lock calls (tests/e2e/test_dup_and_high_fds.sh).
$(B)/rel/tests/liblockcount.so: tests/e2e/lib/lockcount.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -o $@ $< -ldl

$(B)/rel/bench/%: tests/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -lpthread -lm

# The capture cost: the shim's own code, linked in (but its exported
# wrappers, shim.c, and the accept path, which need the configuration).
STACKCOST_OBJ = $(filter-out $(B)/rel/shim/shim.o $(B)/rel/shim/accept_path.o,\
	$(call SHIM_OBJ,rel))
$(B)/rel/bench/stackcost: tests/bench/stackcost.c $(STACKCOST_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -ldl -lpthread -lm

$(B)/tsan/tests/%: tests/e2e/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(TSAN_FLAGS) -o $@ $< -lpthread -lm -ldl

.SECONDEXPANSION:
$(B)/asan/tests/test_%: tests/unit/test_%.c $$(UNIT_DEPS_test_$$*)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itools $(SAN_FLAGS) -o $@ $(filter %.c,$^) \
		$$(pkg-config --cflags --libs cmocka) $(UNIT_LIBS_test_$*) -lm

$(B)/tsan/unit/test_%: tests/unit/test_%.c $$(UNIT_DEPS_test_$$*)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itools $(TSAN_FLAGS) -o $@ $(filter %.c,$^) \
		$$(pkg-config --cflags --libs cmocka) $(UNIT_LIBS_test_$*) -lm

# --- dependencies --------------------------------------------------------
# Detect with pkg-config, headers and commands, not dpkg: a fresh machine
# ships LLVM's libunwind-14-dev, which provides the package name but not our
# libunwind. Installing must not start the packaged services (nginx, redis):
# policy-rc.d says no for the length of the install.
deps:
	@missing=""; \
	need() { eval "$$2" >/dev/null 2>&1 || missing="$$missing $$1"; }; \
	need pkg-config "pkg-config --version"; \
	need libunwind-dev "pkg-config --exists libunwind"; \
	need libcmocka-dev "pkg-config --exists cmocka"; \
	need libdw-dev "pkg-config --exists libdw"; \
	need binutils "command -v nm && command -v objcopy"; \
	need xz-utils "command -v xz"; \
	need libc6-dbg "sh tests/libc_debug.sh"; \
	need iproute2 "command -v ip && command -v ss"; \
	need procps "command -v sysctl"; \
	need util-linux "command -v unshare && command -v setpriv"; \
	need valgrind "command -v valgrind"; \
	need strace "command -v strace"; \
	need nginx "command -v nginx || test -x /usr/sbin/nginx"; \
	need redis-server "command -v redis-server"; \
	need libmicrohttpd-dev "pkg-config --exists libmicrohttpd"; \
	need prometheus "command -v prometheus && command -v promtool"; \
	need clang "command -v clang"; \
	need cppcheck "command -v cppcheck"; \
	need clang-format "command -v clang-format"; \
	need systemd "command -v systemd-analyze"; \
	need python3 "command -v python3"; \
	need curl "command -v curl"; \
	need jq "command -v jq"; \
	need uthash-dev "test -f /usr/include/uthash.h"; \
	need golang-go "command -v go"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "acceptwatch: missing packages:$$missing"; \
		echo "  run: sudo apt-get update && sudo apt-get install -y$$missing"; \
		exit 1; \
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
# 60 s (tests/e2e/test_reader_fuzz.sh). Corpus in build/fuzz/corpus.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 600
FUZZ_FLAGS := -std=gnu11 -O1 -g -D_GNU_SOURCE -Ishim -Itools \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_DEPS := tools/segment_reader.c tools/segment_check.c tools/procinfo.c \
	tools/event_ring.c \
	tools/segment_name.c \
	tools/bypass.c tools/error.c \
	tools/report_json.c tools/report_text.c tools/report_prom.c \
	tools/format.c tools/totals.c tools/live.c tools/sockdiag.c \
	tools/stack_frames.c tools/symbolize.c tools/histogram.c \
	tools/report_watch.c tools/sample_task.c tools/verdict.c
FUZZ_BIN := $(B)/fuzz/fuzz_segment

$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_DEPS) $(TOOL_LIBS)

.PHONY: fuzz
fuzz: test-build
	AW_ROOT=$(CURDIR) AW_FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/e2e/test_reader_fuzz.sh

# --- tests ---------------------------------------------------------------
test-build: all $(ASAN_SHIM) $(TSAN_SHIM) $(ASAN_TOOL) $(TSAN_TOOL) \
	$(E2E_BIN) $(BENCH_BIN) \
	$(E2E_TSAN_BIN) $(E2E_REL_BIN) $(B)/rel/tests/libearly.so \
	$(B)/rel/tests/liblockcount.so $(B)/rel/tests/libctorlisten.so \
	$(SMALLMAP_SHIM) \
	$(B)/rel/tests/server-static $(UNIT_BIN) $(UNIT_TSAN_BIN) $(FUZZ_BIN)

check: deps
	$(MAKE) test-build
	bash tests/run.sh

demo: deps
	$(MAKE) all
	bash tests/demo.sh

# CPython's socket, server, asyncio, multiprocessing and subprocess tests,
# with and without the shim: the same results, no segment left (~10 min).
cpython-check: all
	bash tests/cpython.sh

# The peers the benchmark compares with (ltrace, bpftrace): installed for it
# alone, as root, when missing.
bench-deps: deps
	@missing=""; \
	command -v ltrace >/dev/null || missing="$$missing ltrace"; \
	command -v bpftrace >/dev/null || missing="$$missing bpftrace"; \
	if [ -z "$$missing" ] || [ "$$(id -u)" != 0 ]; then exit 0; fi; \
	echo "acceptwatch: installing$$missing (bench peers)"; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing \
		>/dev/null || echo "acceptwatch: could not install$$missing"

bench: bench-deps
	$(MAKE) all $(E2E_REL_BIN) $(BENCH_BIN)
	bash tests/bench/run.sh
	bash tests/bench/watch.sh

# --- install -------------------------------------------------------------
# The systemd units (dist/systemd) name the default paths; installed with
# the ones of this PREFIX. The preload drop-in is an example to copy.
SYSTEMD_UNITS := $(notdir $(wildcard dist/systemd/*.service dist/systemd/*.timer))
SYSTEMD_PATHS = -e 's,/usr/local/bin/acceptwatch,$(BINDIR)/acceptwatch,g' \
	-e 's,/usr/local/lib/acceptwatch,$(LIBDIR),g'
install: all
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

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDDIR)/,$(SYSTEMD_UNITS))
	rm -f $(DESTDIR)$(DATADIR)/acceptwatch-preload.conf
	-rmdir $(DESTDIR)$(DATADIR) 2>/dev/null
	rm -f $(DESTDIR)$(BINDIR)/acceptwatch $(DESTDIR)$(LIBDIR)/libacceptwatch.so
	rm -f $(DESTDIR)$(MANDIR)/man1/acceptwatch.1 $(DESTDIR)$(MANDIR)/man7/libacceptwatch.7
	-rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null

format:
	clang-format -i shim/*.[ch] tools/*.[ch] tests/unit/*.c tests/e2e/*.c \
		tests/e2e/lib/*.[ch] tests/bench/*.c $(wildcard tests/fuzz/*.c)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr -D_GNU_SOURCE -Ishim -Itools \
		--suppress=missingIncludeSystem shim tools tests

clean:
	rm -rf $(B) $(SHIM_LIB) $(TOOL_BIN)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
