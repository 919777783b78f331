#!/usr/bin/env python3
"""Writes synthetic benchmark captures (never committed).

media   PACKETS: WebRTC-like traffic: many flows, each an ICE check exchange (Binding request/response with
        USERNAME, PRIORITY, ICE-CONTROLLING, MESSAGE-INTEGRITY, FINGERPRINT), a DTLS handshake, then RTP audio
        and video with RTCP, consent checks every 5 s, and TURN ChannelData on a quarter of the flows.
flood   PACKETS: Binding requests with random transaction ids from random ports (a STUN flood).
ice-dense PACKETS: a TURN/SFU server's view of 3 500 concurrent ICE sessions: 3 500 client 5-tuples towards 200
        server agents in turn, each step a Binding request (USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE on
        a fifth, MESSAGE-INTEGRITY with the server's real short-term key, FINGERPRINT) answered 0.4 ms later
        (XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT), steps 100 µs apart. The servers' credentials
        (UFRAG:PASSWORD, one per line) go to PATH.credentials for --ice-credentials.
mix     PACKETS: thousands of short calls, about a hundred at a time, as seen on a LAN: each gathers a
        server-reflexive address from a STUN server, a quarter allocate on a TURN server (401 then success,
        CreatePermission, ChannelBind), runs ICE (a host pair that is never answered, a pair that succeeds and is
        nominated), a DTLS handshake, then RTP audio both ways every 20 ms, video, RTCP and consent checks every
        5 s, the relayed quarter in ChannelData. About 1 GB for 2 000 000 packets.
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

def xor_address(ip, port):
    return struct.pack("!BBH", 0, 1, port ^ 0x2112) + bytes(a ^ b for a, b in zip(ip, b"\x21\x12\xa4\x42"))

def binding_response(transaction, address):
    return stun(0x0101, transaction, [(0x0020, xor_address(address, 50000)), (0x0008, os.urandom(20))])

def ice_check(transaction, ufrags, controlling, nominate):
    attributes = [(0x0006, ufrags), (0x0024, struct.pack("!I", 0x6E7F1EFF if controlling else 0x6E7F1EFE)),
                  (0x802A if controlling else 0x8029, os.urandom(8))]
    if nominate:
        attributes.append((0x0025, b""))
    return stun(0x0001, transaction, attributes + [(0x0008, os.urandom(20))])

def stun_integrity(message_type, transaction, attributes, key):
    """A STUN message with a real MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) and FINGERPRINT."""
    import hmac, hashlib
    body = b"".join(struct.pack("!HH", t, len(v)) + v + b"\x00" * ((4 - len(v) % 4) % 4) for t, v in attributes)
    header = struct.pack("!HHI", message_type, len(body) + 24, 0x2112A442) + transaction
    mac = hmac.new(key, header + body, hashlib.sha1).digest()
    body += struct.pack("!HH", 0x0008, 20) + mac
    header = struct.pack("!HHI", message_type, len(body) + 8, 0x2112A442) + transaction
    crc = (zlib.crc32(header + body) ^ 0x5354554E) & 0xFFFFFFFF
    return header + body + struct.pack("!HHI", 0x8028, 4, crc)

def write_ice_dense(write, packets, path):
    servers = [(bytes([198, 51, 100, 1 + j % 250]), 3478 + j // 250, f"srv{j:03d}", f"server-password-{j:03d}".encode()) for j in range(200)]
    clients = [(bytes([10, 20 + i // 62500, i // 250 % 250, i % 250 + 1]), 40000 + i % 20000, f"c{i:04d}") for i in range(3500)]
    with open(path + ".credentials", "w") as out:
        for _, _, ufrag, password in servers:
            out.write(f"{ufrag}:{password.decode()}\n")
    pending = []  # (due time in µs, frame) of answers not yet written
    now, written, step = 0, 0, 0
    while written < packets:
        client, cport, cufrag = clients[step % len(clients)]
        server, sport, sufrag, key = servers[step % len(servers)]
        transaction = os.urandom(12)
        attributes = [(0x0006, f"{sufrag}:{cufrag}".encode()), (0x0024, struct.pack("!I", 0x6E7F1EFF)),
                      (0x802A, struct.pack("!Q", step * 2654435761 % (1 << 64)))]
        if step % 5 == 0:
            attributes.append((0x0025, b""))
        request = checksum_free_udp(client, server, cport, sport, stun_integrity(0x0001, transaction, attributes, key))
        answer = checksum_free_udp(server, client, sport, cport, stun_integrity(0x0101, transaction, [(0x0020, xor_address(client, cport))], key))
        pending.append((now + 400, answer))
        while pending and pending[0][0] <= now + 100 and written < packets:
            due, frame = pending.pop(0)
            write(frame, 0)
            written += 1
        if written >= packets:
            break
        write(request, 100)
        written += 1
        now += 100
        step += 1
    for due, frame in pending:
        if written >= packets:
            break
        write(frame, 100)
        written += 1

def write_mix(write, packets):
    """Calls start every few ticks so that about 100 run at once; each lasts 150-450 ticks of 20 ms."""
    stun_server, turn_server = bytes([192, 0, 2, 20]), bytes([192, 0, 2, 10])
    audio, video = os.urandom(160), os.urandom(1000)
    active, written, tick, call = [], 0, 0, 0
    frames = []  # (frame) for the current tick, timed evenly across it
    def udp(src, sport, dst, dport, payload):
        frames.append(checksum_free_udp(src, dst, sport, dport, payload))
    def start(call):
        a = bytes([10, 1, call // 250 % 250, call % 250 + 1]); pa = 40000 + call % 20000
        a_public = bytes([198, 51, 100, call % 250 + 1]); pa_public = 50000 + call % 10000
        b = bytes([203, 0, 113, call % 250 + 1]); pb = 30000 + call % 30000
        b_private = bytes([10, 2, call // 250 % 250, call % 250 + 1])
        ufrags = f"u{call}b:u{call}a".encode()
        relayed = call % 4 == 0
        t = os.urandom(12)
        udp(a, pa, stun_server, 3478, stun(0x0001, t, []))
        udp(stun_server, 3478, a, pa, stun(0x0101, t, [(0x0020, xor_address(a_public, pa_public))]))
        session = {"a": a, "pa": pa, "b": b, "pb": pb, "relayed": relayed, "left": random.randrange(150, 450),
                   "sequence": random.randrange(65536), "ufrags": ufrags, "age": 0, "channel": 0x4000 + call % 0x3FFF}
        if relayed:
            t = os.urandom(12)
            udp(a, pa, turn_server, 3478, stun(0x0003, t, [(0x0019, b"\x11\x00\x00\x00")]))
            udp(turn_server, 3478, a, pa, stun(0x0113, t, [(0x0009, b"\x00\x00\x04\x01Unauthorized"),
                                                          (0x0014, b"lab"), (0x0015, os.urandom(16))]))
            t = os.urandom(12)
            udp(a, pa, turn_server, 3478, stun(0x0003, t, [(0x0019, b"\x11\x00\x00\x00"), (0x0006, f"user{call}".encode()),
                                                          (0x0014, b"lab"), (0x0015, os.urandom(16)), (0x0008, os.urandom(20))]))
            udp(turn_server, 3478, a, pa, stun(0x0103, t, [(0x0016, xor_address(turn_server, 49152 + call % 16000)),
                                                          (0x0020, xor_address(a_public, pa_public)),
                                                          (0x000D, struct.pack("!I", 600)), (0x0008, os.urandom(20))]))
            t = os.urandom(12)
            udp(a, pa, turn_server, 3478, stun(0x0008, t, [(0x0012, xor_address(b, pb)), (0x0008, os.urandom(20))]))
            udp(turn_server, 3478, a, pa, stun(0x0108, t, [(0x0008, os.urandom(20))]))
            t = os.urandom(12)
            udp(a, pa, turn_server, 3478, stun(0x0009, t, [(0x000C, struct.pack("!HH", session["channel"], 0)),
                                                          (0x0012, xor_address(b, pb)), (0x0008, os.urandom(20))]))
            udp(turn_server, 3478, a, pa, stun(0x0109, t, [(0x0008, os.urandom(20))]))
        # ICE: the host pair is never answered (two sends), the public pair succeeds both ways and is nominated.
        t = os.urandom(12)
        udp(a, pa, b_private, pb, ice_check(t, ufrags, True, False))
        udp(a, pa, b_private, pb, ice_check(t, ufrags, True, False))
        t = os.urandom(12)
        udp(b, pb, a, pa, ice_check(t, ufrags[ufrags.index(b":") + 1:] + b":" + ufrags[:ufrags.index(b":")], False, False))
        udp(a, pa, b, pb, stun(0x0101, t, [(0x0020, xor_address(b, pb)), (0x0008, os.urandom(20))]))
        t = os.urandom(12)
        udp(a, pa, b, pb, ice_check(t, ufrags, True, True))
        udp(b, pb, a, pa, stun(0x0101, t, [(0x0020, xor_address(a_public, pa_public)), (0x0008, os.urandom(20))]))
        # DTLS handshake: ClientHello, the server's flight, the client's finish.
        udp(a, pa, b, pb, b"\x16\xfe\xfd" + bytes(8) + struct.pack("!H", 120) + b"\x01" + os.urandom(119))
        udp(b, pb, a, pa, b"\x16\xfe\xfd" + bytes(8) + struct.pack("!H", 900) + b"\x02" + os.urandom(899))
        udp(a, pa, b, pb, b"\x16\xfe\xfd" + bytes(8) + struct.pack("!H", 300) + b"\x10" + os.urandom(299))
        return session
    def media(session):
        session["sequence"] = (session["sequence"] + 1) & 0xFFFF
        session["age"] += 1
        a, pa, b, pb, sequence = session["a"], session["pa"], session["b"], session["pb"], session["sequence"]
        rtp_a = struct.pack("!BBHII", 0x80, 111, sequence, sequence * 960 & 0xFFFFFFFF, pa) + audio
        rtp_b = struct.pack("!BBHII", 0x80, 111, sequence, sequence * 960 & 0xFFFFFFFF, pb) + audio
        rtp_v = struct.pack("!BBHII", 0x80, 96, sequence, sequence * 3000 & 0xFFFFFFFF, pa + 1) + video
        if session["relayed"]:
            channel = session["channel"]
            for payload in (rtp_a, rtp_v):
                udp(a, pa, bytes([192, 0, 2, 10]), 3478, struct.pack("!HH", channel, len(payload)) + payload)
            udp(bytes([192, 0, 2, 10]), 3478, a, pa, struct.pack("!HH", channel, len(rtp_b)) + rtp_b)
        else:
            udp(a, pa, b, pb, rtp_a)
            udp(b, pb, a, pa, rtp_b)
            udp(a, pa, b, pb, rtp_v)
        if session["age"] % 50 == 0:
            udp(b, pb, a, pa, struct.pack("!BBHI", 0x80, 200, 6, pb) + bytes(20))
        if session["age"] % 250 == 0 and not session["relayed"]:
            t = os.urandom(12)
            udp(a, pa, b, pb, ice_check(t, session["ufrags"], True, False))
            udp(b, pb, a, pa, stun(0x0101, t, [(0x0020, xor_address(a, pa)), (0x0008, os.urandom(20))]))
    while written < packets:
        if len(active) < 100 or tick % 3 == 0:
            active.append(start(call))
            call += 1
        for session in active:
            media(session)
            session["left"] -= 1
        active = [session for session in active if session["left"] > 0]
        for frame in frames[: packets - written]:
            write(frame, 20_000 // max(1, len(frames)))
        written += min(len(frames), packets - written)
        frames.clear()
        tick += 1
    print(f"{call} calls", file=sys.stderr)

with open(path, "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    second, micro = 1_700_000_000, 0
    def write(frame, step=200):
        global second, micro
        micro += step
        if micro >= 1_000_000:
            second, micro = second + 1, micro - 1_000_000
        out.write(struct.pack("<IIII", second, micro, len(frame), len(frame)))
        out.write(frame)

    written = 0
    if kind == "mix":
        write_mix(write, packets)
        written = packets
    elif kind == "ice-dense":
        write_ice_dense(write, packets, path)
        written = packets
    elif kind == "flood":
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
