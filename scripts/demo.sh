#!/usr/bin/env bash
# Installs libpcap-dev, libssl-dev and zlib1g-dev when missing, builds wedio, and analyses a capture shipped in fixtures/.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=()
dpkg -s libpcap-dev >/dev/null 2>&1 || packages+=(libpcap-dev)
dpkg -s libssl-dev >/dev/null 2>&1 || packages+=(libssl-dev)
dpkg -s zlib1g-dev >/dev/null 2>&1 || packages+=(zlib1g-dev)
if [ ${#packages[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
    fi
fi
export PATH="/opt/swift/usr/bin:$PATH"
# The Swift runtime and Foundation linked in: starts in half the time (no dynamic loading of a dozen
# libraries) and runs on machines without Swift.
swift build -c release --product wedio --static-swift-stdlib
.build/release/wedio analyze "${@:-fixtures/link/ethernet-lo.pcap}"
