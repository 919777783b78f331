/* The floor for benchmarks: read every packet with pcap_next_ex and do nothing with it.
 * pcap_loop FILE            libpcap opens and reads the file (read(2) through stdio): the floor.
 * pcap_loop --mapped FILE   the file mapped into memory and handed to libpcap as a stream over it
 *                           (wedio_mapped_stream, Sources/CMappedStream: built with this file), pages given
 *                           back as reading goes on: how wedio reads a regular file. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "mapped_stream.h"

int main(int argc, char **argv) {
    char error[PCAP_ERRBUF_SIZE];
    int mapped = argc == 3 && strcmp(argv[1], "--mapped") == 0;
    if (argc != 2 && !mapped) { fprintf(stderr, "usage: pcap_loop [--mapped] FILE\n"); return 64; }
    const char *path = argv[argc - 1];
    pcap_t *handle;
    FILE *stream = NULL;
    unsigned char *base = NULL;
    long size = 0, dropped = 0;
    if (mapped) {
        int descriptor = open(path, O_RDONLY);
        struct stat info;
        if (descriptor < 0 || fstat(descriptor, &info) != 0) { perror(path); return 66; }
        size = info.st_size;
        base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, descriptor, 0);
        close(descriptor);
        if (base == MAP_FAILED) { perror("mmap"); return 66; }
        madvise(base, size, MADV_SEQUENTIAL);
        stream = wedio_mapped_stream(base, size);
        handle = pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_NANO, error);
    } else {
        handle = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, error);
    }
    if (!handle) { fprintf(stderr, "%s\n", error); return 66; }
    struct pcap_pkthdr *header;
    const u_char *data;
    long packets = 0;
    while (pcap_next_ex(handle, &header, &data) == 1) {
        packets++;
        if (mapped && (packets & 0xFFF) == 0) {
            long end = ftell(stream) & ~4095L;
            if (end > dropped) { madvise(base + dropped, end - dropped, MADV_DONTNEED); dropped = end; }
        }
    }
    printf("%ld packets\n", packets);
    pcap_close(handle);
    return 0;
}
