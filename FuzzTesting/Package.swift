// swift-tools-version:6.2
import PackageDescription

// libFuzzer harnesses, one per decoder. Build and run with ./run-fuzzers.sh (needs -sanitize=fuzzer,
// which the Swift toolchain's clang runtime provides).
let package = Package(
    name: "WeDioFuzzTesting",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "WeDio", path: "..")],
    targets: [
        .executableTarget(name: "FuzzSTUN", dependencies: [.product(name: "WeDio", package: "WeDio")]),
        .executableTarget(name: "FuzzChannelData", dependencies: [.product(name: "WeDio", package: "WeDio")]),
        .executableTarget(name: "FuzzPackets", dependencies: [.product(name: "WeDio", package: "WeDio")]),
        .executableTarget(name: "FuzzPcap", dependencies: [.product(name: "WeDio", package: "WeDio")]),
    ]
)
