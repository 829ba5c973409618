// The versions this build reports: the host's own, and the plugin ABI it
// speaks (read from Include/pincer/version.h, so the two cannot disagree).

import CPincer

public enum PincerVersion {
    public static let host = "0.1.0"
    public static let abi = "\(PINCER_ABI_MAJOR).\(PINCER_ABI_MINOR).\(PINCER_ABI_PATCH)"
}
