#ifndef WEDIO_MAPPED_STREAM_H
#define WEDIO_MAPPED_STREAM_H
#include <stddef.h>
#include <stdio.h>

/// A read-only stdio stream over memory that stays valid while the stream is open (a capture file mapped
/// into memory), for libpcap's pcap_fopen_offline. The stream's buffer is that memory itself, so a read
/// copies bytes once, from the memory into the caller's buffer; through fmemopen they were copied twice (the
/// memory into the stream's buffer, then out of it): a fifth of reading a media capture. Seeks are allowed
/// within the memory. NULL when the stream cannot be made.
FILE *wedio_mapped_stream(const void *base, size_t size);

#endif
