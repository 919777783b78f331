// swift-tools-version:6.2
import PackageDescription

// Micro-benchmarks (ordo-one/benchmark) for the codec and the decode hot path (Codec), and for building and
// writing the report of a server's 3 500 ICE sessions (Report). Run:
//   cd Benchmarks && swift package benchmark
// Regression check against the stored thresholds (fails past 20 % on the p50):
//   cd Benchmarks && swift package benchmark thresholds check --target Report
// Whole-capture comparisons against tshark and a bare libpcap loop: ../scripts/bench.sh
let package = Package(
    name: "WeDioBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "WeDio", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Codec",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "WeDio", package: "WeDio"),
            ],
            path: "Benchmarks/Codec",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Building the report of 3 500 ICE sessions and writing its JSON, with regression thresholds.
        .executableTarget(
            name: "Report",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "WeDio", package: "WeDio"),
            ],
            path: "Benchmarks/Report",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
