#!/usr/bin/env bash
# Live-capture benchmark (root): how fast a STUN + RTP mix can arrive before `wedio sniff` loses packets,
# measured beside `tcpdump -w /dev/null` capturing the same veth at the same time, and how much memory a
# long run takes. Everything happens on a veth between two network namespaces this script creates.
#
#   scripts/bench-live.sh [--update-readme] [--soak-minutes N] [--rates "50000 100000 200000 top"]
#
# The load is the "mix" bench capture (scripts/bench/make_capture.py: calls with STUN, TURN, ICE, DTLS, RTP,
# RTCP; about 490 bytes a packet) replayed by tcpreplay into the sending side at each rate ("top": as fast as
# tcpreplay goes on this machine), 1.5 M packets a step. Per step and per wedio output (text, NDJSON): the
# packets tcpdump and wedio took and what the kernel dropped for each, wedio's CPU time per packet and peak
# RSS. Then the soak: wedio sniff --format ndjson --report-every 60 for N minutes (default 10) at 20 000
# packets/s, its RSS read every 30 s.
set -euo pipefail
cd "$(dirname "$0")/.."
update=0
soak_minutes=10
rates="50000 100000 200000 top"
while [ $# -gt 0 ]; do
    case "$1" in
    --update-readme) update=1 ;;
    --soak-minutes) soak_minutes=$2; shift ;;
    --rates) rates=$2; shift ;;
    *) echo "usage: $0 [--update-readme] [--soak-minutes N] [--rates LIST]" >&2; exit 64 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 77; }
for tool in tcpreplay tcpdump; do
    command -v $tool >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $tool; }
done
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product wedio --static-swift-stdlib >/dev/null
WEDIO=$(pwd)/.build/release/wedio
dir=${WEDIO_BENCH_DIR:-/tmp/wedio-bench}
mkdir -p "$dir"
capture=$dir/mix300k.pcap
[ -f "$capture" ] || python3 scripts/bench/make_capture.py mix 300000 "$capture" >/dev/null
work=$(mktemp -d)
trap 'scripts/live/lab.sh down; rm -rf "$work"' EXIT
scripts/live/lab.sh up

# One step: tcpdump and wedio (extra arguments) on lcap while tcpreplay sends 1.5 M packets at RATE.
step() {
    local rate=$1
    shift
    # GNU time ignores SIGINT, so wedio stops by --duration: the replay's length and some slack.
    local duration=12
    [ "$rate" != top ] && duration=$((1500000 / rate + 6))
    ip netns exec wedio-lcap tcpdump -i lcap -n -w /dev/null 2>"$work/tcpdump" &
    local tcpdump=$!
    ip netns exec wedio-lcap /usr/bin/time -f '%U %S %M' -o "$work/time" \
        "$WEDIO" sniff -i lcap --duration "$duration" "$@" >"$work/wedio" 2>"$work/wedio.err" &
    local wedio=$!
    sleep 1.5
    local speed=(--topspeed)
    [ "$rate" != top ] && speed=(--pps="$rate")
    ip netns exec wedio-lsnd tcpreplay -i lsnd -K "${speed[@]}" --loop=5 "$capture" >"$work/replay" 2>&1
    wait "$wedio" 2>/dev/null || true
    kill -INT "$tcpdump" 2>/dev/null || true
    wait "$tcpdump" 2>/dev/null || true
    python3 - "$work" "$rate" "$*" <<'EOF'
import json, os, re, sys
work, rate, args = sys.argv[1], sys.argv[2], sys.argv[3]
read = lambda name: open(os.path.join(work, name)).read()
tcpdump = read("tcpdump")
replay = read("replay")
sent_rate = float(re.search(r"([\d.]+) pps", replay).group(1))
captured = int(re.search(r"(\d+) packets captured", tcpdump).group(1))
tcpdump_dropped = int(re.search(r"(\d+) packets dropped by kernel", tcpdump).group(1))
out = read("wedio")
if "ndjson" in args:
    report = json.loads(out.strip().splitlines()[-1])["report"]
    packets = report["inputs"][0]["packets"]
    dropped = report["inputs"][0]["liveCapture"]["droppedByKernel"]
else:
    packets = int(re.search(r"\]\s+\S+\s+(\d+) packets", out).group(1))
    dropped = int(re.search(r"(\d+) dropped \(buffer full\)", out).group(1))
user, system, rss = read("time").split()[-3:]
cpu = float(user) + float(system)
print(json.dumps({"rate": rate, "sentPps": round(sent_rate), "args": args, "tcpdumpCaptured": captured,
                  "tcpdumpDropped": tcpdump_dropped, "wedioPackets": packets, "wedioDropped": dropped,
                  "cpuNsPerPacket": round(cpu / max(packets, 1) * 1e9), "rssMB": round(int(rss) / 1024, 1)}))
EOF
}

results=$work/results.jsonl
: >"$results"
for format in text ndjson; do
    for rate in $rates; do
        step "$rate" --format "$format" >>"$results"
        tail -1 "$results" >&2
    done
done
step top --format text --immediate >>"$results"
tail -1 "$results" >&2

# Soak: memory over a long run at a steady rate, window reports on.
mkdir -p "$work/reports"
ip netns exec wedio-lcap "$WEDIO" sniff -i lcap --format ndjson --report-every 60 --output "$work/reports" \
    >/dev/null 2>"$work/soak.err" &
soak=$!
sleep 1
seconds=$((soak_minutes * 60))
ip netns exec wedio-lsnd tcpreplay -i lsnd -K --pps=20000 --loop=0 --duration="$seconds" "$capture" >/dev/null 2>&1 &
replay=$!
samples=$work/rss
: >"$samples"
for ((elapsed = 30; elapsed <= seconds; elapsed += 30)); do
    sleep 30
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$soak/status" 2>/dev/null || echo 0)
    echo "$elapsed $rss" >>"$samples"
done
wait "$replay" 2>/dev/null || true
kill -INT "$soak" 2>/dev/null || true
wait "$soak" 2>/dev/null || true
windows=$(ls "$work/reports" | wc -l)

table=$(python3 - "$results" "$samples" "$windows" "$soak_minutes" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
samples = [tuple(map(int, line.split())) for line in open(sys.argv[2]) if line.strip()]
windows, minutes = int(sys.argv[3]), sys.argv[4]
out = ["| wedio output | rate asked | sent (pps) | tcpdump: captured / dropped | wedio: captured / dropped | wedio CPU per packet | wedio peak RSS |",
       "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
for r in rows:
    label = r["args"].replace("--format ", "")
    out.append(f"| {label} | {r['rate']} | {r['sentPps']:,} | {r['tcpdumpCaptured']:,} / {r['tcpdumpDropped']:,} | "
               f"{r['wedioPackets']:,} / {r['wedioDropped']:,} | {r['cpuNsPerPacket']} ns | {r['rssMB']} MB |")
if samples:
    first = samples[0][1] / 1024
    last = samples[-1][1] / 1024
    top = max(s[1] for s in samples) / 1024
    out.append("")
    out.append(f"Soak: `wedio sniff --format ndjson --report-every 60` for {minutes} min at 20 000 packets/s "
               f"({windows} window reports): RSS {first:.1f} MB after 30 s, {last:.1f} MB at the end, {top:.1f} MB at most "
               f"(read every 30 s: {', '.join(f'{s[1] / 1024:.0f}' for s in samples)} MB).")
print("\n".join(out))
EOF
)
stamp="_Measured by \`scripts/bench-live.sh\` on $(nproc) cores, $(date -u +%F); 1.5 M packets of the mix capture per step, tcpdump and wedio capturing the same veth at the same time._"
echo "$table"
echo "$stamp"
if [ "$update" = 1 ]; then
    python3 - "$table" "$stamp" <<'EOF'
import re, sys
readme = open("README.md").read()
block = "<!-- bench-live:start -->\n" + sys.argv[1] + "\n\n" + sys.argv[2] + "\n<!-- bench-live:end -->"
readme = re.sub(r"<!-- bench-live:start -->.*?<!-- bench-live:end -->", lambda _: block, readme, flags=re.S)
open("README.md", "w").write(readme)
EOF
fi
