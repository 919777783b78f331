// swift-tools-version:6.2
import PackageDescription

// libFuzzer harnesses, one per decoder. Build and run with ./run-fuzzers.sh (needs -sanitize=fuzzer,
// which the Swift toolchain's clang runtime provides).
let package = Package(
    name: "WeDioFuzzTesting",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "WeDio", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzSTUN", dependencies: ["FuzzDriver", .product(name: "WeDio", package: "WeDio")]),
        .executableTarget(name: "FuzzChannelData", dependencies: ["FuzzDriver", .product(name: "WeDio", package: "WeDio")]),
        .executableTarget(name: "FuzzPackets", dependencies: ["FuzzDriver", .product(name: "WeDio", package: "WeDio")]),
        .executableTarget(name: "FuzzPcap", dependencies: ["FuzzDriver", .product(name: "WeDio", package: "WeDio")]),
    ]
)
