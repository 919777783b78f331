#!/usr/bin/env python3
"""STUN (and RTP) load for live-capture tests and the sniff benchmark, run inside network namespaces the
caller created. Bounded in count and time; sends only to the address it is given.

  stun_load.py respond --bind 10.213.1.1 --port 3478 --seconds 20
      answers every Binding request with a success carrying XOR-MAPPED-ADDRESS and FINGERPRINT.
  stun_load.py send --to 10.213.1.1 --port 3478 --rate 5000 --seconds 10 --sockets 64 [--rtp-rate 0]
      sends Binding requests (FINGERPRINT) from `sockets` sockets at `rate` per second, optionally plain
      RTP packets (172 bytes, one SSRC per socket) at `rtp-rate` per second to port+1; prints one JSON line
      with what was sent and how many answers came back.
"""
import argparse
import json
import os
import selectors
import socket
import struct
import time
import zlib

MAGIC = 0x2112A442


def fingerprint(message: bytes) -> bytes:
    crc = (zlib.crc32(message) ^ 0x5354554E) & 0xFFFFFFFF
    return struct.pack('!HHI', 0x8028, 4, crc)


def binding_request() -> bytes:
    tid = os.urandom(12)
    header = struct.pack('!HHI', 0x0001, 8, MAGIC) + tid
    return header + fingerprint(header)


def ice_check(index: int) -> bytes:
    """A connectivity check: USERNAME "rfrag:lfrag", PRIORITY, ICE-CONTROLLING, FINGERPRINT."""
    username = b'rfrag:lfrag'
    attributes = struct.pack('!HH', 0x0006, len(username)) + username + bytes((4 - len(username) % 4) % 4)
    attributes += struct.pack('!HHI', 0x0024, 4, 0x6E7F00FF)
    attributes += struct.pack('!HHQ', 0x802A, 8, 0x1234567890 + index)
    header = struct.pack('!HHI', 0x0001, len(attributes) + 8, MAGIC) + os.urandom(12)
    body = header + attributes
    return body + fingerprint(body)


def respond(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((args.bind, args.port))
    s.setblocking(False)
    # RTP goes to port + 1: a socket takes it so that no ICMP port-unreachable comes back.
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sink.bind((args.bind, args.port + 1))
    sink.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(s, selectors.EVENT_READ)
    selector.register(sink, selectors.EVENT_READ)
    end = time.monotonic() + args.seconds
    answered = 0
    pending = []
    while time.monotonic() < end:
        if not pending:
            for key, _ in selector.select(timeout=0.2):
                if key.fileobj is sink:
                    try:
                        while True:
                            sink.recv(2048)
                    except BlockingIOError:
                        pass
                else:
                    try:
                        while len(pending) < 256:
                            pending.append(s.recvfrom(2048))
                    except BlockingIOError:
                        pass
            continue
        data, addr = pending.pop(0)
        if len(data) < 20 or data[0:2] != b'\x00\x01':
            continue
        ip = struct.unpack('!I', socket.inet_aton(addr[0]))[0] ^ MAGIC
        xma = struct.pack('!HHBBHI', 0x0020, 8, 0, 1, addr[1] ^ 0x2112, ip)
        header = struct.pack('!HHI', 0x0101, len(xma) + 8, MAGIC) + data[8:20]
        body = header + xma
        s.sendto(body + fingerprint(body), addr)
        answered += 1
    print(json.dumps({"answered": answered}), flush=True)


def drain(selector, timeout):
    """Reads every answer waiting on the sockets; returns how many."""
    count = 0
    for key, _ in selector.select(timeout=timeout):
        while True:
            try:
                key.fileobj.recv(2048)
                count += 1
            except BlockingIOError:
                break
    return count


def send(args):
    sockets = []
    selector = selectors.DefaultSelector()
    for _ in range(args.sockets):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.bind(('0.0.0.0', 0))
        sockets.append(s)
        selector.register(s, selectors.EVENT_READ)
    total = int(args.rate * args.seconds)
    rtp_total = int(args.rtp_rate * args.seconds)
    rtp_payload = bytes(160)
    sent = rtp_sent = answers = 0
    start = time.monotonic()
    deadline = start + args.seconds + 5
    sequence = 0
    while (sent < total or rtp_sent < rtp_total) and time.monotonic() < deadline:
        now = time.monotonic() - start
        due = min(total, int(now * args.rate) + 1)
        while sent < due:
            s = sockets[sent % len(sockets)]
            try:
                s.sendto(binding_request(), (args.to, args.port))
            except BlockingIOError:
                break
            sent += 1
        rtp_due = min(rtp_total, int(now * args.rtp_rate) + 1) if args.rtp_rate else 0
        while rtp_sent < rtp_due:
            index = rtp_sent % len(sockets)
            sequence = (rtp_sent // len(sockets)) & 0xFFFF
            header = struct.pack('!BBHII', 0x80, 111, sequence, rtp_sent * 160 & 0xFFFFFFFF, 0x1000 + index)
            try:
                sockets[index].sendto(header + rtp_payload, (args.to, args.port + 1))
            except BlockingIOError:
                break
            rtp_sent += 1
        answers += drain(selector, 0.0005)
    # Then a few ICE checks, so that another kind of event follows the flood.
    for index in range(args.ice_checks):
        sockets[0].sendto(ice_check(index), (args.to, args.port))
        sent += 1
        time.sleep(0.01)
    # Collect the last answers.
    settle = time.monotonic() + 1
    while time.monotonic() < settle:
        answers += drain(selector, 0.05)
    print(json.dumps({"sent": sent, "rtpSent": rtp_sent, "answers": answers,
                      "seconds": round(time.monotonic() - start, 3)}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest='mode', required=True)
    r = sub.add_parser('respond')
    r.add_argument('--bind', required=True)
    r.add_argument('--port', type=int, default=3478)
    r.add_argument('--seconds', type=float, default=20)
    s = sub.add_parser('send')
    s.add_argument('--to', required=True)
    s.add_argument('--port', type=int, default=3478)
    s.add_argument('--rate', type=float, default=1000)
    s.add_argument('--rtp-rate', type=float, default=0)
    s.add_argument('--seconds', type=float, default=10)
    s.add_argument('--sockets', type=int, default=64)
    s.add_argument('--ice-checks', type=int, default=0)
    args = parser.parse_args()
    if args.seconds > 900 or getattr(args, 'rate', 0) > 200000 or getattr(args, 'rtp_rate', 0) > 200000:
        parser.error('bounded: at most 900 s and 200 000 packets/s')
    respond(args) if args.mode == 'respond' else send(args)


if __name__ == '__main__':
    main()
