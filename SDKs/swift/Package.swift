// swift-tools-version:6.0
// PincerPluginKit: write Pincer plugins in Swift. A package of its own, with no
// dependencies, so a plugin resolves nothing but this kit.
//   CPincerABI       the C ABI (Include/pincer, reached through a symlink), imported into Swift
//   PincerPluginKit  the Plugin protocol, the one-line entry, and Host: the host table in Swift
import PackageDescription

let package = Package(
    name: "PincerPluginKit",
    products: [
        .library(name: "PincerPluginKit", targets: ["PincerPluginKit"]),
    ],
    targets: [
        .systemLibrary(name: "CPincerABI", path: "Sources/CPincerABI"),
        .target(name: "PincerPluginKit", dependencies: ["CPincerABI"]),
    ]
)
