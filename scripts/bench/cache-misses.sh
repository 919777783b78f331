#!/usr/bin/env bash
# Instructions and last-level cache misses of the reading phase (the reading thread and the analysing thread)
# of `wedio analyze --format json` on the generated 100 000-message ice-dense capture, by callgrind's cache
# model with one core's 2 MB L2 as the last level. On a server's capture the analysing thread's time goes
# mostly to misses (the state of 3 500 sessions revisited every 3 500 messages, with the stream in between),
# which wall time on a shared machine hides in its noise and an instruction count does not see; the model's
# count is the same from run to run for a given split of the work between the threads.
# Usage: scripts/bench/cache-misses.sh [WEDIO_BINARY]   (default: the release build, built first)
# Two threads run, so how many messages each decodes can vary between builds: compare the sums.
source "$(dirname "$0")/callgrind-setup.sh" "${1:-}"
rm -f "$work"/cachegrind.out*
valgrind --tool=callgrind --cache-sim=yes --LL=2097152,16,64 --separate-threads=yes \
    --callgrind-out-file="$work/cachegrind.out" "$symbols" analyze --no-progress --format json \
    "$capture" >/dev/null 2>"$work/cachegrind.log"
# The reading thread's whole read (libpcap included; the largest of the matching entries comes first) and the
# analysing thread's closure, inclusive: instructions, LL read misses, LL write misses.
for profile in "$work"/cachegrind.out-*; do
    callgrind_annotate --inclusive=yes --show=Ir,DLmr,DLmw "$profile" 2>/dev/null | awk '
        { gsub(/\([^)]*\)/, ""); gsub(",", "") }
        /PipelineV4read33_.*splitThreads8progress/ && !reader { reader = 1; print "reading thread;" $1 ";" $2 ";" $3 }
        /AnalyzerBoxC5startyyAA7HandoffCyAA12PayloadBatchVGFyyYbcfU_ \[/ { print "analysing thread;" $1 ";" $2 ";" $3 }'
done | awk -F ';' '
    { ir[$1] += $2; rm[$1] += $3; wm[$1] += $4; ir["both"] += $2; rm["both"] += $3; wm["both"] += $4 }
    END {
        for (name in ir) printf "%-17s %7.1f M instructions  %6.3f M LL read misses  %6.3f M LL write misses\n", name, ir[name] / 1e6, rm[name] / 1e6, wm[name] / 1e6
    }' | sort
