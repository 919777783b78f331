#!/usr/bin/env python3
"""Writes synthetic benchmark captures (never committed).

media   PACKETS: WebRTC-like traffic: many flows, each an ICE check exchange (Binding request/response with
        USERNAME, PRIORITY, ICE-CONTROLLING, MESSAGE-INTEGRITY, FINGERPRINT), a DTLS handshake, then RTP audio
        and video with RTCP, consent checks every 5 s, and TURN ChannelData on a quarter of the flows.
flood   PACKETS: Binding requests with random transaction ids from random ports (a STUN flood).
Addresses are from 10.0.0.0/8 and 192.0.2.0/24; nothing is sent anywhere."""
import os
import random
import struct
import sys
import zlib

kind, packets, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
random.seed(7)

def checksum_free_udp(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + udp

def stun(message_type, transaction, attributes):
    body = b"".join(struct.pack("!HH", t, len(v)) + v + b"\x00" * ((4 - len(v) % 4) % 4) for t, v in attributes)
    header = struct.pack("!HHI", message_type, len(body) + 8, 0x2112A442) + transaction
    crc = (zlib.crc32(header + body) ^ 0x5354554E) & 0xFFFFFFFF
    return header + body + struct.pack("!HHI", 0x8028, 4, crc)

def binding_request(transaction):
    return stun(0x0001, transaction, [(0x0006, b"abcd:efgh"), (0x0024, struct.pack("!I", 0x6E0001FF)),
                                       (0x802A, os.urandom(8)), (0x0008, os.urandom(20))])

def binding_response(transaction, address):
    xport = 50000 ^ 0x2112
    xaddress = bytes(a ^ b for a, b in zip(address, b"\x21\x12\xa4\x42"))
    return stun(0x0101, transaction, [(0x0020, struct.pack("!BBH", 0, 1, xport) + xaddress), (0x0008, os.urandom(20))])

with open(path, "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    second, micro = 1_700_000_000, 0
    def write(frame):
        global second, micro
        micro += 200
        if micro >= 1_000_000:
            second, micro = second + 1, micro - 1_000_000
        out.write(struct.pack("<IIII", second, micro, len(frame), len(frame)))
        out.write(frame)

    written = 0
    if kind == "flood":
        server = bytes([192, 0, 2, 1])
        while written < packets:
            client = bytes([10, random.randrange(256), random.randrange(256), random.randrange(1, 255)])
            write(checksum_free_udp(client, server, random.randrange(1024, 65535), 3478, binding_request(os.urandom(12))))
            written += 1
    else:
        flows = []
        for index in range(200):
            a = bytes([10, 1, index // 250, index % 250 + 1])
            b = bytes([10, 2, index // 250, index % 250 + 1])
            flows.append((a, b, 40000 + index, 50000 + index, index % 4 == 0))
        video = os.urandom(1100)
        audio = os.urandom(160)
        sequence = 0
        while written < packets:
            for a, b, pa, pb, relayed in flows:
                sequence += 1
                if sequence % 500 == 1:
                    transaction = os.urandom(12)
                    write(checksum_free_udp(a, b, pa, pb, binding_request(transaction)))
                    write(checksum_free_udp(b, a, pb, pa, binding_response(transaction, a)))
                    written += 2
                if sequence % 2000 == 3:
                    write(checksum_free_udp(a, b, pa, pb, b"\x16\xfe\xfd" + bytes(8) + struct.pack("!H", 100) + os.urandom(100)))
                    written += 1
                payload = (struct.pack("!BBHII", 0x80, 96 if sequence % 3 else 111, sequence & 0xFFFF, sequence, pa)
                           + (video if sequence % 3 else audio))
                if relayed:
                    payload = struct.pack("!HH", 0x4001, len(payload)) + payload
                write(checksum_free_udp(a, b, pa, pb, payload))
                written += 1
                if sequence % 100 == 0:
                    write(checksum_free_udp(b, a, pb, pa, struct.pack("!BBHI", 0x80, 200, 6, pb) + bytes(20)))
                    written += 1
                if written >= packets:
                    break
print(f"wrote {written} packets to {path}")
