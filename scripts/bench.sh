#!/usr/bin/env bash
# Whole-capture benchmark: wall time and peak RSS of `wedio analyze --format json` against a bare libpcap read
# loop (pcap_next_ex doing nothing: the floor) and tshark, measured in the same run on generated captures.
# Usage: scripts/bench.sh [--update-readme] [--lab-calls]
#   --lab-calls  also record the lab's 60 s aiortc calls (direct and through TURN; needs root, see
#                fixtures/lab/); calls recorded before in $WEDIO_BENCH_DIR are measured either way.
# Captures (never committed) go to $WEDIO_BENCH_DIR or a temporary folder and are reused when present.
set -euo pipefail
export LC_ALL=C  # $EPOCHREALTIME with a decimal point
cd "$(dirname "$0")/.."
update=0
lab_calls=0
for argument in "$@"; do
    case $argument in
        --update-readme) update=1 ;;
        --lab-calls) lab_calls=1 ;;
        *) echo "unknown argument $argument" >&2; exit 64 ;;
    esac
done
export PATH="/opt/swift/usr/bin:$PATH"
for tool in tshark gcc python3; do command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 69; }; done
work=${WEDIO_BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
swift build -c release --product wedio --static-swift-stdlib >/dev/null  # as scripts/demo.sh builds it
gcc -O2 -I Sources/CMappedStream/include -o "$work/pcap_loop" scripts/bench/pcap_loop.c Sources/CMappedStream/mapped_stream.c -lpcap
[ -f "$work/media.pcap" ] || python3 scripts/bench/make_capture.py media 1000000 "$work/media.pcap" >/dev/null
[ -f "$work/mix.pcap" ] || python3 scripts/bench/make_capture.py mix 2000000 "$work/mix.pcap" >/dev/null 2>&1
[ -f "$work/flood.pcap" ] || python3 scripts/bench/make_capture.py flood 1000000 "$work/flood.pcap" >/dev/null
[ -f "$work/ice-dense.pcap" ] || python3 scripts/bench/make_capture.py ice-dense 1000000 "$work/ice-dense.pcap" >/dev/null
if [ $lab_calls = 1 ] && [ ! -f "$work/call-direct.pcap" ]; then
    WEDIO_BENCH_OUT="$work" WEDIO_CALL_SECONDS=60 bash fixtures/lab/make-ice-fixtures.sh bench-call >/dev/null
fi
# ice-dense+credentials: the same capture with every server's --ice-credentials (a MAC checked per message).
captures=${WEDIO_BENCH_CAPTURES:-"media mix flood ice-dense ice-dense+credentials"}
for call in call-direct call-turn; do [ -f "$work/$call.pcap" ] && captures+=" $call"; done

# One timed run: wall time from bash's own clock ($EPOCHREALTIME), no process started around the command
# (time(1) there added one to two milliseconds to every run: noise on the big captures, a sixth of a lab
# call's time).
run_once() {
    local start end
    start=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    end=$EPOCHREALTIME
    awk "BEGIN{printf \"%.3f\", $end - $start}"
}

# Peak RSS (MB) of one more run, from time(1), apart from the timed ones.
peak_rss() {
    local kilobytes
    /usr/bin/time -f "%M" -o "$work/time" "$@" >/dev/null 2>&1 || true
    read -r kilobytes <"$work/time"
    echo $((kilobytes / 1024))
}

# interleaved RUNS "COMMAND" ...: the best and the median time of each command and its peak RSS, running
# them round-robin so that a slow spell of this shared machine hits all of them alike. Commands are split on
# spaces (the paths here have none).
interleaved() {
    local runs=$1 index seconds
    shift
    local -a times=() memory=()
    index=0
    for command in "$@"; do
        # shellcheck disable=SC2086
        memory[$index]=$(peak_rss $command)
        index=$((index + 1))
    done
    for _ in $(seq "$runs"); do
        index=0
        for command in "$@"; do
            # shellcheck disable=SC2086
            seconds=$(run_once $command)
            times[$index]="${times[$index]:-} $seconds"
            index=$((index + 1))
        done
    done
    for index in "${!memory[@]}"; do
        # best, median, peak RSS
        echo "$(tr ' ' '\n' <<<"${times[$index]}" | grep . | sort -n | awk '{v[NR]=$1} END{printf "%s %s", v[1], v[int((NR+1)/2)]}') ${memory[$index]}"
    done
}

table="| capture | packets | size | libpcap loop | libpcap loop, file mapped | wedio decode+classify | wedio analyze --format json | same, one thread | tshark -Y \"stun \\|\\| classicstun\" | tshark -T fields stun | analyze / loop (best; median) | tshark -Y / analyze | tshark -T fields / analyze |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for capture in $captures; do
    file="$work/${capture%+credentials}.pcap"
    extra=""
    if [ "$capture" != "${capture%+credentials}" ]; then
        extra=$(sed 's/^/--ice-credentials /' "$file.credentials" | tr '\n' ' ')
    fi
    packets=$("$work/pcap_loop" "$file" | cut -d' ' -f1)
    size=$(awk "BEGIN{printf \"%.1f\", $(stat -c %s "$file") / 1048576}")
    wedio=".build/release/wedio analyze --no-progress"
    # More runs where one is short: the VM's noise is a larger share of a 15 ms run. tshark gets as many
    # on the small captures (fewer would favour wedio), three on the large ones (tens of seconds each).
    if [ "$(stat -c %s "$file")" -lt 10485760 ]; then fast_runs=31; slow_runs=31; else fast_runs=9; slow_runs=3; fi
    mapfile -t fast < <(interleaved $fast_runs "$work/pcap_loop $file" "$work/pcap_loop --mapped $file" "$wedio --decode-only $file" \
        "$wedio --format json $extra $file" "$wedio --format json --one-thread $extra $file")
    mapfile -t slow < <(interleaved $slow_runs "tshark -n -r $file -Y stun||classicstun" "tshark -n -r $file -T fields -e stun.type -e stun.id")
    read -r loop loop_median loop_rss <<<"${fast[0]}"
    read -r mapped _ mapped_rss <<<"${fast[1]}"
    read -r decode _ decode_rss <<<"${fast[2]}"
    read -r analyze analyze_median analyze_rss <<<"${fast[3]}"
    read -r single _ single_rss <<<"${fast[4]}"
    read -r filter _ filter_rss <<<"${slow[0]}"
    read -r fields _ fields_rss <<<"${slow[1]}"
    ratio=$(awk "BEGIN{if ($loop < 0.05) print \"n/a (loop under 50 ms)\"; else printf \"%.2fx; %.2fx\", $analyze / $loop, $analyze_median / $loop_median}")
    speedup=$(awk "BEGIN{printf \"%.0fx\", $filter / ($analyze > 0.001 ? $analyze : 0.001)}")
    fields_speedup=$(awk "BEGIN{printf \"%.0fx\", $fields / ($analyze > 0.001 ? $analyze : 0.001)}")
    table+="
| $capture | $packets | ${size} MB | ${loop} s, ${loop_rss} MB | ${mapped} s, ${mapped_rss} MB | ${decode} s, ${decode_rss} MB | ${analyze} s, ${analyze_rss} MB | ${single} s, ${single_rss} MB | ${filter} s, ${filter_rss} MB | ${fields} s, ${fields_rss} MB | $ratio | $speedup | $fields_speedup |"
done
# Both cores on two vantage points: the media capture given as two vantage points (one thread each) against
# the same two inputs as one vantage point (read one after the other).
media="$work/media.pcap"
mapfile -t vantages < <(interleaved 9 ".build/release/wedio analyze --no-progress --format json --vantage a=$media --vantage b=$media" \
    ".build/release/wedio analyze --no-progress --format json --vantage a=$media --vantage a=$media")
read -r parallel _ _ <<<"${vantages[0]}"
read -r sequential _ _ <<<"${vantages[1]}"
table+="

Two vantage points (the media capture twice): ${parallel} s on two threads, ${sequential} s read one after the other."
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
echo "$table"
echo "($machine; best of 9 runs, 31 on captures under 10 MB; tshark best of 3 on the large ones, 31 on those; wedio release build)"
if [ $update = 1 ]; then
    python3 - "$table" "$machine" <<'PY'
import re, sys
table, machine = sys.argv[1], sys.argv[2]
text = open("README.md").read()
block = f"<!-- bench:start -->\n{table}\n\n_Measured by `scripts/bench.sh --update-readme --lab-calls` on {machine}; best of 9 runs, 31 on captures under 10 MB (tshark: best of 3 on the large ones, 31 on those)._\n<!-- bench:end -->"
text = re.sub(r"<!-- bench:start -->.*?<!-- bench:end -->", block, text, flags=re.S)
open("README.md", "w").write(text)
PY
fi
