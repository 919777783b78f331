#define _GNU_SOURCE
#include "gzip_stream.h"

#include <errno.h>
#include <limits.h>
#include <zlib.h>

static ssize_t gzip_read(void *cookie, char *buffer, size_t size) {
    unsigned chunk = size > (size_t)INT_MAX ? (unsigned)INT_MAX : (unsigned)size;
    int count = gzread((gzFile)cookie, buffer, chunk);
    if (count < 0) {
        errno = EIO;
        return -1;
    }
    return count;
}

static int gzip_close(void *cookie) {
    return gzclose((gzFile)cookie) == Z_OK ? 0 : EOF;
}

FILE *wedio_gzip_open(const char *path) {
    gzFile file = gzopen(path, "rb");
    if (file == NULL) return NULL;
    gzbuffer(file, 256 * 1024);
    cookie_io_functions_t functions = {.read = gzip_read, .write = NULL, .seek = NULL, .close = gzip_close};
    FILE *stream = fopencookie(file, "rb", functions);
    if (stream == NULL) gzclose(file);
    return stream;
}

int wedio_is_gzip(const char *path) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) return 0;
    unsigned char magic[2] = {0, 0};
    size_t count = fread(magic, 1, 2, file);
    fclose(file);
    return count == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}
