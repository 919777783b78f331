// swift-tools-version:6.2
import PackageDescription

/// Settings every regular target shares (see ../shared/STYLE.md, "Manifest settings").
let commonSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]
/// Layers that touch capture bytes are checked for memory safety; only WeDioCapture may write `unsafe`.
let strictSettings: [SwiftSetting] = commonSettings + [.strictMemorySafety()]

let package = Package(
    name: "WeDio",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wedio", targets: ["wedio"]),
        .library(
            name: "WeDio",
            targets: ["WeDio", "WeDioBasics", "WeDioCapture", "WeDioDecode", "WeDioSTUN", "WeDioAnalysis", "WeDioReport", "WeDioCrypto"]
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // MARK: C interop
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // gzip-compressed captures (.pcap.gz, .pcapng.gz) as a stdio stream for libpcap (zlib).
        .target(name: "CGzipStream", linkerSettings: [.linkedLibrary("z")]),
        // A capture file mapped into memory as a stdio stream for libpcap, read in place.
        .target(name: "CMappedStream"),
        // The C library's heap (glibc's malloc_trim), for a steady peak memory.
        .target(name: "CHeap"),
        // Cache prefetch hints (a compiler builtin), for table look-ups issued ahead of their use.
        .target(name: "CPrefetch"),
        // MD5, SHA-256 and HMACs from the system's libcrypto, behind a safe interface.
        .target(name: "WeDioCrypto", dependencies: ["CLibCrypto"], swiftSettings: commonSettings),

        // MARK: Layers (capture → decode → STUN → analysis → report → CLI)
        .target(name: "WeDioBasics", dependencies: ["CPrefetch"], swiftSettings: strictSettings),
        .target(name: "WeDioCapture", dependencies: ["WeDioBasics", "CPcap", "CGzipStream", "CMappedStream"], swiftSettings: commonSettings),
        .target(name: "WeDioDecode", dependencies: ["WeDioBasics"], swiftSettings: strictSettings),
        .target(
            name: "WeDioSTUN",
            dependencies: ["WeDioBasics", "WeDioCrypto"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WeDioAnalysis",
            dependencies: ["WeDioBasics", "WeDioDecode", "WeDioSTUN", "CPrefetch"],
            swiftSettings: strictSettings
        ),
        .target(name: "WeDioReport", dependencies: ["WeDioBasics", "WeDioDecode", "WeDioAnalysis", "WeDioSTUN"], swiftSettings: strictSettings),
        .target(
            name: "WeDio",
            dependencies: ["WeDioBasics", "WeDioCapture", "WeDioDecode", "WeDioSTUN", "WeDioAnalysis", "WeDioReport", "CHeap", "CPrefetch"],
            swiftSettings: commonSettings
        ),
        .target(
            name: "WeDioCLI",
            dependencies: [
                "WeDio", "WeDioCapture", "WeDioAnalysis", "WeDioReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: commonSettings
        ),
        .executableTarget(name: "wedio", dependencies: ["WeDioCLI"], swiftSettings: commonSettings),

        // MARK: Test support and tests
        .target(
            name: "WeDioTestSupport",
            dependencies: ["WeDioBasics", "WeDioDecode", "WeDioSTUN"],
            swiftSettings: commonSettings
        ),
        .testTarget(
            name: "WeDioDecodeTests",
            dependencies: ["WeDioBasics", "WeDioDecode", "WeDioSTUN", "WeDioTestSupport"],
            swiftSettings: commonSettings
        ),
        .testTarget(
            name: "WeDioSTUNTests",
            dependencies: ["WeDioSTUN", "WeDioCrypto", "WeDioTestSupport", "WeDio"],
            resources: [.copy("Vectors")],
            swiftSettings: commonSettings
        ),
        .testTarget(
            name: "WeDioPipelineTests",
            dependencies: ["WeDio", "WeDioAnalysis", "WeDioBasics", "WeDioDecode", "WeDioReport", "WeDioSTUN", "WeDioTestSupport"],
            exclude: ["Snapshots"],
            swiftSettings: commonSettings
        ),
        .testTarget(
            name: "WeDioEndToEndTests",
            dependencies: ["WeDioTestSupport", "WeDioBasics", "wedio"],
            swiftSettings: commonSettings
        ),
    ]
)
