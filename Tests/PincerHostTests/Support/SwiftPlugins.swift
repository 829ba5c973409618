// Builds Swift plugin packages (PincerPluginKit plugins) with SwiftPM, the way
// an author would, once per test process. The test run already holds the
// machine's build lock (`flock … swift test`), and scripts/build has usually
// built these packages before, so this is an up-to-date check more often
// than a build.

import Foundation
import Synchronization

enum SwiftPlugins {
    private static let built = Mutex<[String: String]>([:])

    /// The .so of `product` in the package at `package` (relative to the repository), built for debug.
    static func build(_ package: String, product: String) throws -> String {
        try built.withLock { built in
            if let path = built[product] { return path }
            try runCommand("/usr/bin/env", ["swift", "build", "--package-path", Repo.path(package), "--product", product])
            let path = Repo.path("\(package)/.build/debug/lib\(product).so")
            built[product] = path
            return path
        }
    }
}
