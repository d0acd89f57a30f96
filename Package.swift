// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "msgit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MSGit", targets: ["MSGit"]),
        .library(name: "LFS", targets: ["LFS"]),
        .library(name: "HTTP", targets: ["HTTP"]),
        .executable(name: "msgit", targets: ["msgit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        // What a service watches: recorded only when the service bootstraps a metrics backend.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        // `swift package generate-documentation --target MSGit`: the DocC catalog in Sources/MSGit/MSGit.docc.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.0.0"),
    ],
    targets: [
        // libgit2 from the system (Debian: libgit2-dev 1.5.1).
        .systemLibrary(
            name: "CLibgit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"]), .brew(["libgit2"])]
        ),
        // The C we need beside libgit2: a socket stream with timeouts and cancellation,
        // and non-variadic wrappers for git_libgit2_opts.
        // OpenSSL (Debian libssl-dev): msgit's TLS stream for libgit2 (Vendor-notes.md).
        .target(name: "CGitSupport", dependencies: ["CLibgit2"],
                linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        // The one place that decides whether a name or path from outside may become a file, and
        // file operations relative to directory descriptors that never follow a symbolic link.
        // No dependencies.
        .target(name: "PathSafety"),
        .target(
            name: "GitCore",
            dependencies: ["CLibgit2", "CGitSupport", "PathSafety"]
        ),
        // URLSession with the policies msgit needs on Linux, and the one type that decides where a
        // credential may go. No libgit2, no LFS.
        // One HTTP exchange read whole, bounded as it arrives, with libcurl (libcurl4-openssl-dev):
        // the batch API, probes. FoundationNetworking cannot bound a body it reads.
        .target(name: "CHTTPExchange", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "HTTP", dependencies: [
            "CHTTPExchange",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        .target(
            name: "LFS",
            dependencies: [
                "HTTP", "PathSafety",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Who msgit is to a hub: remote URLs and short names, tokens and where they come from
        // (providers, git's store file and helpers and configuration, netrc, Hugging Face's token),
        // the redactor and the scopes that hold tokens, and `MSGitError`, which all of it throws.
        .target(
            name: "Credentials",
            dependencies: [
                "GitCore", "HTTP", "LFS",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "MSGit",
            dependencies: [
                "Credentials", "GitCore", "HTTP", "LFS", "PathSafety",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "MSGitCommands",
            dependencies: [
                "MSGit",
                "LFS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "msgit", dependencies: ["MSGitCommands"]),
        // bench.py's service scenarios: one process, one GitClient, every clone at once.
        .executableTarget(name: "msgit-service-bench", dependencies: ["MSGit"], path: "Benchmarks/ServiceBench"),
        .executableTarget(
            name: "clone-with-token",
            dependencies: ["MSGit"],
            path: "Examples/CloneWithToken"
        ),
        // A service's skeleton: one GitClient, many clones at once, each with a deadline.
        .executableTarget(
            name: "clone-service",
            dependencies: ["MSGit"],
            path: "Examples/CloneService"
        ),
        // Fuzz targets for every parser of outside input. A plain build replays the committed
        // corpora (`swift run msgit-fuzz`); `.ci/fuzz` builds it with libFuzzer and fuzzes.
        .executableTarget(
            name: "msgit-fuzz",
            dependencies: ["CGitSupport", "Credentials", "HTTP", "LFS", "MSGit", "PathSafety"],
            path: "Tests/Fuzz",
            exclude: ["corpus"],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        // Unit tests: no hub, seconds each (swift test --filter '^(GitCoreTests|PathSafetyTests|HTTPTests|LFSTests|MSGit.*Tests)\.').
        .testTarget(name: "GitCoreTests", dependencies: ["GitCore"]),
        .testTarget(name: "PathSafetyTests", dependencies: ["PathSafety"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"]),
        .testTarget(name: "LFSTests", dependencies: ["LFS", "HTTP", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "MSGitCommandsTests", dependencies: ["MSGitCommands", "MSGit", "Credentials", "HTTP"]),
        .testTarget(
            name: "MSGitTests",
            dependencies: ["MSGit", "Credentials", "GitCore", "HTTP", .product(name: "Logging", package: "swift-log")]
        ),
        // Against the local hub (Tests/Hub), with git and git-lfs as the reference.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "MSGit", "GitCore", "HTTP", "LFS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
    ]
)
