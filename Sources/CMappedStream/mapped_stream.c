#define _GNU_SOURCE
#include "mapped_stream.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

struct mapped_stream {
    const char *base;
    size_t size;
    size_t position;
};

/// Hands out the bytes at the current position. When the stream asks for them in the memory they are in
/// (its buffer is that memory: see wedio_mapped_stream), there is nothing to copy; any other buffer gets a
/// copy, so the stream reads correctly whatever the C library does with its buffer.
static ssize_t mapped_read(void *cookie, char *buffer, size_t size) {
    struct mapped_stream *stream = cookie;
    size_t left = stream->size - stream->position;
    size_t count = size < left ? size : left;
    const char *from = stream->base + stream->position;
    if (buffer != from && count > 0) memcpy(buffer, from, count);
    stream->position += count;
    return (ssize_t)count;
}

static int mapped_seek(void *cookie, off64_t *offset, int whence) {
    struct mapped_stream *stream = cookie;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return -1;
    off64_t origin = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (off64_t)stream->position : (off64_t)stream->size;
    off64_t target = origin + *offset;
    if (target < 0 || target > (off64_t)stream->size) return -1;
    stream->position = (size_t)target;
    *offset = target;
    return 0;
}

static int mapped_close(void *cookie) {
    free(cookie);
    return 0;
}

FILE *wedio_mapped_stream(const void *base, size_t size) {
    if (base == NULL || size == 0) return NULL;
    struct mapped_stream *state = malloc(sizeof *state);
    if (state == NULL) return NULL;
    *state = (struct mapped_stream){.base = base, .size = size, .position = 0};
    cookie_io_functions_t functions = {.read = mapped_read, .write = NULL, .seek = mapped_seek, .close = mapped_close};
    FILE *stream = fopencookie(state, "rb", functions);
    if (stream == NULL) {
        free(state);
        return NULL;
    }
    // The memory as the stream's buffer: its first refill asks for the whole of it, in place (read-only: a
    // stream opened for reading never writes into its buffer).
    if (setvbuf(stream, (char *)base, _IOFBF, size) != 0) {
        fclose(stream);
        return NULL;
    }
    return stream;
}
