#!/usr/bin/env bash
# A two-namespace lab for live capture (root): wedio-lcap (10.213.250.1, a STUN responder, where wedio and
# tcpdump capture on veth "lcap") and wedio-lsnd (10.213.250.2, the load). Every packet stays on the veth.
#   scripts/live/lab.sh up | down
#   scripts/live/lab.sh run RATE SECONDS [RTP_RATE] [-- WEDIO_SNIFF_ARGS...]
#       runs tcpdump -w /dev/null and `wedio sniff` side by side on lcap while the load runs, and prints one
#       JSON line: tcpdump's and wedio's packet counts and drops, wedio's CPU seconds and peak RSS.
# WEDIO (default .build/release/wedio) is the binary measured.
set -euo pipefail
cd "$(dirname "$0")/../.."
CAP=wedio-lcap
SND=wedio-lsnd
CAP_IP=10.213.250.1
SND_IP=10.213.250.2
WEDIO=${WEDIO:-.build/release/wedio}
LOAD="$(pwd)/scripts/live/stun_load.py"

up() {
    down 2>/dev/null || true
    ip netns add "$CAP"
    ip netns add "$SND"
    ip link add lcap netns "$CAP" type veth peer name lsnd netns "$SND"
    ip -n "$CAP" addr add "$CAP_IP/24" dev lcap
    ip -n "$SND" addr add "$SND_IP/24" dev lsnd
    for ns in "$CAP" "$SND"; do ip -n "$ns" link set lo up; done
    ip -n "$CAP" link set lcap up
    ip -n "$SND" link set lsnd up
}

down() {
    ip netns pids "$CAP" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns pids "$SND" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns delete "$CAP" 2>/dev/null || true
    ip netns delete "$SND" 2>/dev/null || true
}

run() {
    local rate=$1 seconds=$2 rtp=${3:-0}
    shift 3 || shift $#
    [ "${1:-}" = "--" ] && shift
    local dir
    dir=$(mktemp -d)
    local window=$(python3 -c "print(int($seconds) + 4)")
    ip netns exec "$CAP" timeout $((window + 10)) python3 "$LOAD" respond --bind "$CAP_IP" --seconds "$((window + 2))" >"$dir/respond" &
    local responder=$!
    ip netns exec "$CAP" timeout $((window + 10)) tcpdump -i lcap -n -w /dev/null udp 2>"$dir/tcpdump" &
    local tcpdump=$!
    ip netns exec "$CAP" /usr/bin/time -f '%e %U %S %M' -o "$dir/time" timeout $((window + 20)) \
        "$WEDIO" sniff -i lcap --filter udp --duration "$window" "$@" >"$dir/wedio" 2>"$dir/wedio.err" &
    local wedio=$!
    sleep 1.5
    ip netns exec "$SND" timeout $((window + 10)) python3 "$LOAD" send --to "$CAP_IP" --rate "$rate" \
        --rtp-rate "$rtp" --seconds "$seconds" >"$dir/send"
    wait "$wedio" || true
    kill -INT "$tcpdump" 2>/dev/null || true
    wait "$tcpdump" 2>/dev/null || true
    wait "$responder" 2>/dev/null || true
    python3 - "$dir" <<'EOF'
import json, re, sys, os
d = sys.argv[1]
read = lambda n: open(os.path.join(d, n)).read()
tcpdump = read('tcpdump')
captured = int(re.search(r'(\d+) packets captured', tcpdump).group(1))
dropped = int(re.search(r'(\d+) packets dropped by kernel', tcpdump).group(1))
out = read('wedio')
packets = received = kdrop = idrop = None
timeouts = None
if out.lstrip().startswith('{') or '\n{' in out:
    lines = [json.loads(l) for l in out.splitlines() if l.startswith('{')]
    report = next(l['report'] for l in lines if l.get('type') == 'report')
    i = report['inputs'][0]
    packets = i['packets']
    live = i.get('liveCapture', {})
    received, kdrop, idrop = live.get('received'), live.get('droppedByKernel'), live.get('droppedByInterface')
    timeouts = report['stats']['transactionOutcomes'].get('timeout', 0)
    events = sum(1 for l in lines if l.get('type') == 'event')
    suppressed = sum(l['count'] for l in lines if l.get('type') == 'suppressed')
else:
    m = re.search(r'\]\s+\S+\s+(\d+) packets', out)
    packets = int(m.group(1)) if m else None
    m = re.search(r'kernel: (\d+) received, (\d+) dropped \(buffer full\), (\d+) dropped', out)
    if m: received, kdrop, idrop = map(int, m.groups())
    m = re.search(r'(\d+) timed out', out)
    timeouts = int(m.group(1)) if m else 0
    events = suppressed = None
elapsed, user, system, rss = read('time').split()[-4:]
print(json.dumps({"send": json.loads(read('send')), "tcpdump": {"captured": captured, "dropped": dropped},
                  "wedio": {"packets": packets, "received": received, "droppedByKernel": kdrop, "droppedByInterface": idrop,
                            "timeouts": timeouts, "events": events, "suppressed": suppressed,
                            "cpuSeconds": round(float(user) + float(system), 2), "maxRssMB": round(int(rss) / 1024, 1)},
                  "stderr": read('wedio.err')[-300:]}))
EOF
    rm -rf "$dir"
}

case "${1:-}" in
up) up ;;
down) down ;;
run) shift; run "$@" ;;
*) echo "usage: $0 up|down|run RATE SECONDS [RTP_RATE] [-- SNIFF_ARGS]" >&2; exit 64 ;;
esac
