// The versions this build reports, all read from Include/pincer/version.h: Pincer has one
// version, its plugin ABI's (the ABI is the product; CMake's package and pkg-config file
// read the same numbers), so `pincer --version`, status and the host table cannot disagree.

import CPincer

public enum PincerVersion {
    /// What the host calls itself: status's "version", host_version in the host table, --version.
    public static let host = abi
    /// The plugin ABI it speaks, e.g. "1.0.0-rc2".
    public static let abi = describe(major: UInt32(PINCER_ABI_MAJOR), minor: UInt32(PINCER_ABI_MINOR),
                                     patch: UInt32(PINCER_ABI_PATCH), prerelease: UInt32(PINCER_ABI_PRERELEASE))

    /// "1.0.0", or "1.0.0-rc2" for a release candidate.
    public static func describe(major: UInt32, minor: UInt32, patch: UInt32, prerelease: UInt32) -> String {
        "\(major).\(minor).\(patch)" + (prerelease == 0 ? "" : "-rc\(prerelease)")
    }
}
