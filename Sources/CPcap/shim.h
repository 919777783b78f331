#ifndef WEDIO_CPCAP_SHIM_H
#define WEDIO_CPCAP_SHIM_H
#include <pcap/pcap.h>
#include <stdio.h>
#endif
