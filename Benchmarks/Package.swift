// swift-tools-version:6.2
import PackageDescription

// Micro-benchmarks (ordo-one/benchmark) for the codec and the decode hot path. Run:
//   cd Benchmarks && swift package benchmark
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
        )
    ]
)
