// swift-tools-version:6.0
import PackageDescription

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
        // epoll and eventfd: Glibc's Swift module does not export them.
        .target(name: "CEpoll"),
        .target(
            name: "RecCore",
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(name: "RecServer", dependencies: ["RecCore", "CEpoll"]),
        .executableTarget(name: "recd", dependencies: ["RecServer", "RecCore"]),
        .executableTarget(
            name: "recbench",
            dependencies: ["RecCore", "RecServer"],
            path: "Benchmarks/recbench"
        ),
        .target(name: "RecTestSupport", dependencies: ["RecCore", "RecServer"], path: "Tests/RecTestSupport"),
        .testTarget(name: "RecCoreTests", dependencies: ["RecCore", "RecTestSupport"]),
        .testTarget(name: "RecServerTests", dependencies: ["RecServer", "RecCore", "RecTestSupport"]),
    ]
)
