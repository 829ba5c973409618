// The global symbols a shared object defines, as `nm -D --defined-only`
// lists them (binutils): what `pincer validate`'s exports check judges, and
// what the tests compare with the entry.

import Foundation

public enum ExportedSymbols {
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Names of the global defined dynamic symbols of `path`. A lower-case type in nm's
    /// "ADDRESS TYPE NAME" is a local symbol, which nothing can bind to (gold keeps some).
    public static func of(_ path: String) throws(Unavailable) -> [String] {
        let nm: ChildProcess
        do { nm = try ChildProcess.run("/usr/bin/env", ["nm", "-D", "--defined-only", path], timeoutSeconds: 30) } catch {
            throw Unavailable(description: "cannot list the dynamic symbols: \(error)")
        }
        guard nm.ending == .exited(0) else {
            throw Unavailable(description: "nm -D --defined-only failed (nm comes with binutils): \(nm.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return nm.stdout.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let type = fields[fields.count - 2].first, type.isUppercase else { return nil }
            return String(fields[fields.count - 1])
        }
    }
}
