// swift-tools-version:6.0
import PackageDescription

// Release builds of the index use AVX2 and FMA on x86_64 (every x86 server
// CPU since 2013): SIMD8<Float> dot products then run on 256-bit registers
// instead of pairs of SSE ones (exact vector search measured 25-50% faster).
#if arch(x86_64)
let coreReleaseFlags = ["-Ounchecked", "-target-cpu", "haswell"]
let coreDebugFlags = ["-O", "-target-cpu", "haswell"]
#else
let coreReleaseFlags = ["-Ounchecked"]
let coreDebugFlags = ["-O"]
#endif
// The index builds are optimised in debug builds too: `swift test` and the
// recd it starts run model selection (`similarity auto`) and EASE's dense
// solve, which unoptimised SIMD code makes a hundred times slower.

let package = Package(
    name: "recd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "recd", targets: ["recd"]),
        .executable(name: "recbench", targets: ["recbench"]),
        .library(name: "RecCore", targets: ["RecCore"]),
        .library(name: "RecServer", targets: ["RecServer"]),
    ],
    targets: [
        // What Glibc's Swift module does not export: epoll (and epoll_pwait2),
        // eventfd, accept4, prctl, malloc_trim, mallopt, and a cache prefetch hint.
        .target(name: "CEpoll"),
        .target(
            name: "RecCore",
            dependencies: ["CEpoll"],
            swiftSettings: [.unsafeFlags(coreReleaseFlags, .when(configuration: .release)),
                            .unsafeFlags(coreDebugFlags, .when(configuration: .debug))]
        ),
        // Exclusivity is proven statically where Swift can; the dynamic
        // checks on class properties were 1-2% of the server's samples.
        .target(
            name: "RecServer",
            dependencies: ["RecCore", "CEpoll"],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .executableTarget(name: "recd", dependencies: ["RecServer", "RecCore"]),
        .executableTarget(
            name: "recbench",
            dependencies: ["RecCore", "RecServer", "CEpoll"],
            path: "Benchmarks/recbench"
        ),
        .target(name: "RecTestSupport", dependencies: ["RecCore", "RecServer"], path: "Tests/RecTestSupport"),
        .testTarget(name: "RecCoreTests", dependencies: ["RecCore", "RecTestSupport"]),
        .testTarget(name: "RecServerTests", dependencies: ["RecServer", "RecCore", "RecTestSupport"]),
    ]
)
