/* Detecting processes that bypass libc's accept (see bypass.h). */
#include "bypass.h"

#include "procinfo.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Enough for the headers and the notes of any ordinary executable. */
#define IMAGE_HEAD (64 * 1024)

static int is_go_note(const unsigned char *note, size_t len)
{
	size_t off = 0;
	while (off + sizeof(Elf64_Nhdr) <= len) {
		Elf64_Nhdr nh;
		memcpy(&nh, note + off, sizeof(nh));
		size_t name = off + sizeof(nh);
		size_t namesz = (nh.n_namesz + 3u) & ~3u;
		size_t descsz = (nh.n_descsz + 3u) & ~3u;
		if (nh.n_namesz > len || name + namesz > len)
			return 0;
		/* The Go toolchain's build-ID note: owner "Go", type 4. Go's
		 * linker writes the name as "Go\0\0" (size 4, cmd/link's
		 * ELF_NOTE_GO_NAME); "Go\0" (size 3) is the same owner. */
		if ((nh.n_namesz == 3 || nh.n_namesz == 4) &&
		    memcmp(note + name, "Go\0\0", nh.n_namesz) == 0 &&
		    nh.n_type == 4)
			return 1;
		if (descsz > len - name - namesz)
			return 0;
		off = name + namesz + descsz;
	}
	return 0;
}

unsigned bypass_elf(const unsigned char *image, size_t len)
{
	Elf64_Ehdr eh;
	if (len < sizeof(eh) || memcmp(image, ELFMAG, SELFMAG) != 0 ||
	    image[EI_CLASS] != ELFCLASS64)
		return 0;
	memcpy(&eh, image, sizeof(eh));
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
	    eh.e_phnum > (len - eh.e_phoff) / sizeof(Elf64_Phdr))
		return 0;
	int interp = 0, go = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, image + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP)
			interp = 1;
		if (ph.p_type == PT_NOTE && ph.p_offset < len &&
		    ph.p_filesz <= len - ph.p_offset &&
		    is_go_note(image + ph.p_offset, ph.p_filesz))
			go = 1;
	}
	unsigned kinds = go ? BYPASS_GO : 0;
	/* ET_EXEC or ET_DYN without an interpreter: nothing will load a
	 * preloaded library into it. */
	if (!interp && (eh.e_type == ET_EXEC || eh.e_type == ET_DYN))
		kinds |= BYPASS_STATIC;
	return kinds;
}

static unsigned exe_kinds(pid_t pid)
{
	static unsigned char image[IMAGE_HEAD];
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, image, sizeof(image));
	close(fd);
	return n > 0 ? bypass_elf(image, (size_t)n) : 0;
}

unsigned bypass_detect_io_uring(pid_t pid)
{
	/* Rings are used through an mmap of the ring fd: maps shows them. */
	unsigned maps;
	if (procinfo_maps(pid, &maps) != 0)
		return 0;
	return (maps & PROCINFO_MAPS_IO_URING) ? BYPASS_IO_URING : 0;
}

unsigned bypass_detect(pid_t pid)
{
	return exe_kinds(pid) | bypass_detect_io_uring(pid);
}
