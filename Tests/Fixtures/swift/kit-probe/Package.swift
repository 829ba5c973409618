// swift-tools-version:6.0
// kit-probe: a Swift plugin that exercises PincerPluginKit for SwiftSDKTests; linked as the kit's template says:
// a .dynamic library product (the .so the host loads) linked with the ABI's
// version script, so the .so exports pincer_plugin_get and nothing else. lld,
// not the default gold: gold leaves the kit's type metadata that the code
// reaches through the GOT in .dynsym (as LOCAL symbols, but listed by
// `nm -D`); --undefined-version because the map also names the data entry
// `pincer_plugin`, which a Swift plugin does not define.
// PINCER_INCLUDE names the headers' directory (default: this repository's Include;
// for an installed kit, PREFIX/include).
import PackageDescription

let include = Context.environment["PINCER_INCLUDE"] ?? "\(Context.packageDirectory)/../../../../Include"

let package = Package(
    name: "kit-probe",
    products: [
        .library(name: "kit-probe", type: .dynamic, targets: ["KitProbe"]),
    ],
    dependencies: [
        .package(name: "PincerPluginKit", path: "../../../../SDKs/swift"),
    ],
    targets: [
        .target(
            name: "KitProbe",
            dependencies: [.product(name: "PincerPluginKit", package: "PincerPluginKit")],
            linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "--undefined-version",
                                            "-Xlinker", "--version-script=\(include)/pincer/pincer-plugin.map"])]),
    ]
)
