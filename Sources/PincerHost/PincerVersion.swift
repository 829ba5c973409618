// The versions this build reports: the host's own, and the plugin ABI it
// speaks (read from Include/pincer/version.h, so the two cannot disagree).

import CPincer

public enum PincerVersion {
    public static let host = "0.1.0"
    public static let abi = describe(major: UInt32(PINCER_ABI_MAJOR), minor: UInt32(PINCER_ABI_MINOR),
                                     patch: UInt32(PINCER_ABI_PATCH), prerelease: UInt32(PINCER_ABI_PRERELEASE))

    /// "1.0.0", or "1.0.0-rc2" for a release candidate.
    public static func describe(major: UInt32, minor: UInt32, patch: UInt32, prerelease: UInt32) -> String {
        "\(major).\(minor).\(patch)" + (prerelease == 0 ? "" : "-rc\(prerelease)")
    }
}
