#!/usr/bin/env bash
# Installs what the tests need (libpcap-dev, libssl-dev for libcrypto, zlib1g-dev for .gz captures, tshark as the independent oracle, iproute2 for the
# live-capture test in namespaces, Python's jsonschema for the report schema, chromium and Mermaid's JavaScript to
# render the reports' diagrams) when missing, then fuzzes
# each harness briefly and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=()
dpkg -s libpcap-dev >/dev/null 2>&1 || packages+=(libpcap-dev)
dpkg -s libssl-dev >/dev/null 2>&1 || packages+=(libssl-dev)
dpkg -s zlib1g-dev >/dev/null 2>&1 || packages+=(zlib1g-dev)
command -v tshark >/dev/null 2>&1 || packages+=(tshark)
command -v tcpdump >/dev/null 2>&1 || packages+=(tcpdump)
command -v ip >/dev/null 2>&1 || packages+=(iproute2)
# A real browser renders the reports' Mermaid diagrams (MermaidRenderTests).
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
if [ ${#packages[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
    else
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
    fi
fi
# The JSON report's schema is checked with Python's reference validator.
python3 -c "import jsonschema" 2>/dev/null || python3 -m pip install --quiet jsonschema \
    || python3 -m pip install --quiet --break-system-packages jsonschema
# Mermaid's own JavaScript, from a wheel that ships it (rendered by chromium in MermaidRenderTests).
python3 -c "import diagram_renderer" 2>/dev/null || python3 -m pip install --quiet --no-deps diagram-renderer==2025.9.24.103 \
    || python3 -m pip install --quiet --no-deps --break-system-packages diagram-renderer==2025.9.24.103
export PATH="/opt/swift/usr/bin:$PATH"
# Fuzzers first (bounded: WEDIO_FUZZ_SECONDS per harness, 30 by default, 0 to skip), replaying every saved
# crash; then the test suite, whose summary closes the output.
fuzz_seconds=${WEDIO_FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" -gt 0 ]; then
    ./FuzzTesting/run-fuzzers.sh "$fuzz_seconds"
fi
swift build --build-tests
swift test --skip-build
