// What one plugin did against the contract, kept only when someone watches
// (`pincer validate`): host calls refused with an error, calls after the
// plugin was shut down, answers from its tools and hooks the host could not
// use, and hooks that answered past their deadline. A plugin in production is
// judged by its results alone; this record costs nothing unless enabled.

import Synchronization

public final class PluginDiagnostics: Sendable {
    public enum Kind: String, Sendable {
        /// A host call answered with an error code (the function and the message).
        case refusedCall = "refused-call"
        /// A host call after shutdown() returned.
        case callAfterShutdown = "call-after-shutdown"
        /// A tool answer the host could not use: not from host->alloc, not UTF-8, too long, an unknown code.
        case badToolAnswer = "bad-tool-answer"
        /// A hook answer the host could not use: an error code, an unknown verdict, a patch that is not JSON.
        case badHookAnswer = "bad-hook-answer"
        /// A hook that answered after its deadline (the host had already blocked or gone on).
        case lateHookAnswer = "late-hook-answer"
    }

    public struct Entry: Sendable, Equatable {
        public let kind: Kind
        public let message: String
    }

    /// Entries kept; later ones are counted, not stored.
    public static let capacity = 1000

    private let state = Mutex<(entries: [Entry], dropped: Int)>(([], 0))

    init() {}

    func record(_ kind: Kind, _ message: String) {
        state.withLock { state in
            if state.entries.count < PluginDiagnostics.capacity { state.entries.append(Entry(kind: kind, message: message)) } else { state.dropped += 1 }
        }
    }

    /// host.h's name of a thunk: "pincerHostRegisterTool(_:_:_:)" → "register_tool".
    static func cName(of thunk: StaticString) -> String {
        var name = ""
        for character in "\(thunk)".dropFirst("pincerHost".count).prefix(while: { $0 != "(" }) {
            if character.isUppercase, !name.isEmpty { name += "_" }
            name += character.lowercased()
        }
        return name
    }

    public var entries: [Entry] { state.withLock { $0.entries } }
    public var dropped: Int { state.withLock { $0.dropped } }
}
