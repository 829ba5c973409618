// swift-tools-version:6.0
// The Swift example: a .dynamic library linked with the ABI's version script (lld,
// --undefined-version: entry.h says why), so the .so exports pincer_plugin_get alone.
// It finds the kit beside it (PREFIX/share/pincer, or this repository's SDKs) and the
// headers from there; PINCER_INCLUDE overrides where the headers are.
import Foundation
import PackageDescription

let kit = "\(Context.packageDirectory)/../.."
let include = Context.environment["PINCER_INCLUDE"]
    ?? (FileManager.default.fileExists(atPath: "\(kit)/../Include/pincer") ? "\(kit)/../Include" : "\(kit)/../../include")

let package = Package(
    name: "hello-swift",
    products: [.library(name: "hello-swift", type: .dynamic, targets: ["Hello"])],
    dependencies: [.package(name: "PincerPluginKit", path: "\(kit)/swift")],
    targets: [
        .target(name: "Hello", dependencies: [.product(name: "PincerPluginKit", package: "PincerPluginKit")],
                linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "--undefined-version",
                                               "-Xlinker", "--version-script=\(include)/pincer/pincer-plugin.map"])]),
    ]
)
