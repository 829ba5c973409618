// How the host's lines look, as a swift-log handler: every line of the host
// goes through swift-log (the operator sets the levels; another backend can
// take over), and this handler prints them as the host always has — log.h
// documents the plugin format:
//
//   pincer: <message> (session=<key> run=<id>)     the host's own (label "pincer"; an
//                                                  empty label leaves out "pincer: ")
//   [<plugin-id>] <message>                        a plugin's INFO line (label "pincer.plugin")
//   [<plugin-id>] warn: <message>                  …other levels: debug, warn, error
//
// Metadata other than `plugin` follows the message, sorted, as key=value.

import Foundation
import Logging

public struct HostLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let write: @Sendable (String) -> Void

    /// The label of plugins' lines; their `plugin` metadata names the plugin.
    public static let pluginLabel = "pincer.plugin"

    public static let standardError: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    /// - Parameter write: receives each whole line, without its newline.
    public init(label: String, level: Logger.Level = .info, write: @escaping @Sendable (String) -> Void = HostLogHandler.standardError) {
        self.label = label
        logLevel = level
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        write(HostLogHandler.format(label: label, level: event.level, message: event.message.description, metadata: all))
    }

    static func format(label: String, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        let rest = metadata.filter { $0.key != "plugin" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let suffix = rest.isEmpty ? "" : " (" + rest.joined(separator: " ") + ")"
        if label == pluginLabel, let plugin = metadata["plugin"] {
            return "[\(plugin)] \(levelPrefix(level))\(message)\(suffix)"
        }
        return (label.isEmpty ? "" : "pincer: ") + message + suffix
    }

    /// log.h's severity words; INFO carries none.
    private static func levelPrefix(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: return "debug: "
        case .info, .notice: return ""
        case .warning: return "warn: "
        case .error, .critical: return "error: "
        }
    }
}
