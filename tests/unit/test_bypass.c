/* Unit tests for the ELF side of bypass detection: dynamic, static and Go
 * executables told apart from their headers; short or foreign bytes give 0. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bypass.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

static unsigned char image[4096];

/* An ELF64 executable with the given program headers and, when go_namesz
 * is not 0, a GNU build-ID note then Go's build-ID note whose name size is
 * go_namesz: 4 ("Go\0\0") as Go's linker writes it, 3 ("Go\0"). */
static size_t make_elf(int interp, unsigned go_namesz, uint16_t type)
{
	Elf64_Ehdr eh = {0};
	Elf64_Phdr ph[2];
	size_t n = 0;
	memset(image, 0, sizeof(image));
	memset(ph, 0, sizeof(ph));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_type = type;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	if (interp)
		ph[n++].p_type = PT_INTERP;
	if (go_namesz) {
		size_t off = 1024;
		Elf64_Nhdr gnu = {.n_namesz = 4, .n_descsz = 4, .n_type = 3};
		Elf64_Nhdr nh = {
		    .n_namesz = go_namesz, .n_descsz = 4, .n_type = 4};
		memcpy(image + off, &gnu, sizeof(gnu));
		memcpy(image + off + sizeof(gnu), "GNU\0wxyz", 8);
		memcpy(image + off + 20, &nh, sizeof(nh));
		memcpy(image + off + 20 + sizeof(nh), "Go\0\0abcd", 8);
		ph[n].p_type = PT_NOTE;
		ph[n].p_offset = off;
		ph[n++].p_filesz = 2 * (sizeof(nh) + 8);
	}
	eh.e_phnum = (uint16_t)n;
	memcpy(image, &eh, sizeof(eh));
	memcpy(image + sizeof(eh), ph, n * sizeof(Elf64_Phdr));
	return sizeof(image);
}

static void test_dynamic(void **state)
{
	(void)state;
	assert_int_equal(bypass_elf(image, make_elf(1, 0, ET_DYN)), 0);
}

static void test_static(void **state)
{
	(void)state;
	assert_int_equal(bypass_elf(image, make_elf(0, 0, ET_EXEC)),
			 BYPASS_STATIC);
	assert_int_equal(bypass_elf(image, make_elf(0, 0, ET_DYN)),
			 BYPASS_STATIC);
	/* A shared object's type with no interpreter that is not a program
	 * (ET_REL) says nothing. */
	assert_int_equal(bypass_elf(image, make_elf(0, 0, ET_REL)), 0);
}

static void test_go(void **state)
{
	(void)state;
	/* Go's linker: name size 4, after the GNU build-ID note. */
	assert_int_equal(bypass_elf(image, make_elf(1, 4, ET_EXEC)), BYPASS_GO);
	assert_int_equal(bypass_elf(image, make_elf(0, 4, ET_EXEC)),
			 BYPASS_GO | BYPASS_STATIC);
	assert_int_equal(bypass_elf(image, make_elf(1, 3, ET_EXEC)), BYPASS_GO);
	/* Another owner of the same type is not Go. */
	make_elf(1, 4, ET_EXEC);
	memcpy(image + 1024 + 20 + sizeof(Elf64_Nhdr), "Gp\0\0", 4);
	assert_int_equal(bypass_elf(image, sizeof(image)), 0);
	make_elf(1, 4, ET_EXEC);
	memcpy(image + 1024 + 20 + sizeof(Elf64_Nhdr), "Go\0x", 4);
	assert_int_equal(bypass_elf(image, sizeof(image)), 0);
}

static void test_garbage(void **state)
{
	(void)state;
	size_t len = make_elf(0, 4, ET_EXEC);
	assert_int_equal(bypass_elf(image, 10), 0);
	/* Program headers past the bytes read: ignored, never read. */
	Elf64_Ehdr eh;
	memcpy(&eh, image, sizeof(eh));
	eh.e_phnum = 60000;
	memcpy(image, &eh, sizeof(eh));
	assert_int_equal(bypass_elf(image, len), 0);
	/* A note whose sizes run past its segment. */
	make_elf(1, 4, ET_EXEC);
	Elf64_Nhdr nh = {.n_namesz = 0xffffff00u, .n_descsz = 4, .n_type = 4};
	memcpy(image + 1024, &nh, sizeof(nh));
	assert_int_equal(bypass_elf(image, len), 0);
	memcpy(image,
	       "\x7f"
	       "ELF",
	       4);
	image[EI_CLASS] = ELFCLASS32;
	assert_int_equal(bypass_elf(image, len), 0);
}

static void test_describe(void **state)
{
	(void)state;
	char buf[64];
	assert_string_equal(bypass_describe(0, buf, sizeof(buf)), "");
	assert_string_equal(
	    bypass_describe(BYPASS_STATIC | BYPASS_IO_URING, buf, sizeof(buf)),
	    "static binary, io_uring");
	/* Too small: cut, still terminated. */
	assert_string_equal(bypass_describe(BYPASS_GO, buf, 5), "Go b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dynamic),  cmocka_unit_test(test_static),
	    cmocka_unit_test(test_go),	     cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests_name("bypass", tests, NULL, NULL);
}
