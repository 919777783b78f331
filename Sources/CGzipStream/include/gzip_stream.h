#ifndef WEDIO_GZIP_STREAM_H
#define WEDIO_GZIP_STREAM_H
#include <stdio.h>

/// A read-only stdio stream over a gzip-compressed file (zlib's gzread behind fopencookie), for libpcap's
/// pcap_fopen_offline: a .pcap.gz or .pcapng.gz is read as it is decompressed, in bounded memory. NULL when
/// the file cannot be opened. A corrupt stream reads as an error (fread sets the error indicator).
FILE *wedio_gzip_open(const char *path);

/// 1 when the file starts with gzip's magic bytes (1f 8b), else 0.
int wedio_is_gzip(const char *path);

#endif
