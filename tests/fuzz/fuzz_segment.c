/*
 * libFuzzer target: arbitrary bytes as a segment, through the checks, the
 * snapshot copy and both reports. Nothing may crash, hang, leak or read
 * outside the input.
 *
 * Input: one mode byte, then
 *   mode bit 0 clear: the segment file itself, exactly (short, truncated,
 *     oversized files: the size checks);
 *   mode bit 0 set: a sparse whole-size segment: 192 header bytes, then
 *     chunks (u32 offset, u16 length, bytes) written into an otherwise zero
 *     image of AW_SEG_SIZE bytes (real segments are 3.8 MB of mostly zeros;
 *     tests/e2e/test_reader_fuzz.sh turns them into this form).
 *   mode bit 1 set: read it as another pid than its header says.
 */
#include "acceptwatch_abi.h"
#include "report.h"
#include "segment_reader.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char *image; /* AW_SEG_SIZE, zero between runs */
static FILE *sink;

static size_t load_sparse(const uint8_t *data, size_t size, size_t *dirty_end)
{
	size_t h = size < sizeof(struct aw_seg_header)
		       ? size
		       : sizeof(struct aw_seg_header);
	memcpy(image, data, h);
	*dirty_end = h;
	data += h;
	size -= h;
	while (size >= 6) {
		uint32_t off;
		uint16_t len;
		memcpy(&off, data, 4);
		memcpy(&len, data + 4, 2);
		data += 6;
		size -= 6;
		if (len > size)
			len = (uint16_t)size;
		off %= (uint32_t)AW_SEG_SIZE;
		if (len > AW_SEG_SIZE - off)
			len = (uint16_t)(AW_SEG_SIZE - off);
		memcpy(image + off, data, len);
		if (off + len > *dirty_end)
			*dirty_end = off + len;
		data += len;
		size -= len;
	}
	return AW_SEG_SIZE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model_process snap;
	char err[SEGMENT_ERR_LEN];
	size_t dirty_end = 0;

	if (size < 1)
		return 0;
	if (!image) {
		image = calloc(1, AW_SEG_SIZE);
		sink = fopen("/dev/null", "w");
		if (!image || !sink)
			abort();
	}
	uint8_t mode = data[0];
	const void *buf;
	size_t len;
	if (mode & 1u) {
		len = load_sparse(data + 1, size - 1, &dirty_end);
		buf = image;
	} else {
		/* A private copy of exactly the input: ASan sees any read
		 * past its end. */
		len = size - 1;
		buf = data + 1;
	}
	pid_t pid = 1;
	if (len >= sizeof(struct aw_seg_header))
		memcpy(&pid,
		       (const char *)buf + offsetof(struct aw_seg_header, pid),
		       sizeof(pid));
	if (mode & 2u)
		pid = (pid_t)((uint32_t)pid + 1u);

	int ret = segment_snapshot_from_buffer(buf, len, (uint32_t)geteuid(),
					       pid, &snap, err, sizeof(err));
	if (ret == SEGMENT_OK) {
		struct report r;
		memset(&r, 0, sizeof(r));
		r.proc = &snap;
		r.n_proc = 1;
		report_json(sink, &r);
		report_text(sink, &r);
		report_prometheus(sink, &r, 0);
		report_prometheus(sink, &r, 1);
	} else if (!memchr(err, '\0', sizeof(err)) || !err[0]) {
		abort(); /* a refusal always says why, terminated */
	}
	model_process_free(&snap);
	if (mode & 1u)
		memset(image, 0, dirty_end);
	return 0;
}
