/* The floor for benchmarks: read every packet with pcap_next_ex and do nothing with it. */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv) {
    char error[PCAP_ERRBUF_SIZE];
    if (argc != 2) { fprintf(stderr, "usage: pcap_loop FILE\n"); return 64; }
    pcap_t *handle = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, error);
    if (!handle) { fprintf(stderr, "%s\n", error); return 66; }
    struct pcap_pkthdr *header;
    const u_char *data;
    long packets = 0;
    while (pcap_next_ex(handle, &header, &data) == 1) packets++;
    printf("%ld packets\n", packets);
    pcap_close(handle);
    return 0;
}
