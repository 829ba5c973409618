// One tool, hook, gateway method or route a plugin registered, as the boundary tracks it: the calls
// of it that are running, whether it was withdrawn, and the plugin's release
// callback, called exactly once after the last call has returned — never
// while one runs, and never once the plugin is dead.

import CPincer
import PincerCore
import Synchronization

// @unchecked: `context` and `release` are the plugin's pointers, handed back unchanged; its state is in Mutexes.
final class Registration: @unchecked Sendable {
    enum Kind: Sendable {
        case tool, hook, method, route, follow

        /// How many of this kind one plugin may hold, and the constant that says so.
        var limit: (count: Int, name: String) {
            switch self {
            case .tool: (Int(PINCER_MAX_TOOLS_PER_PLUGIN), "PINCER_MAX_TOOLS_PER_PLUGIN")
            case .hook: (Int(PINCER_MAX_HOOKS_PER_PLUGIN), "PINCER_MAX_HOOKS_PER_PLUGIN")
            case .method: (Int(PINCER_GATEWAY_MAX_METHODS_PER_PLUGIN), "PINCER_GATEWAY_MAX_METHODS_PER_PLUGIN")
            case .route: (Int(PINCER_GATEWAY_MAX_ROUTES_PER_PLUGIN), "PINCER_GATEWAY_MAX_ROUTES_PER_PLUGIN")
            case .follow: (Int(PINCER_RUNS_MAX_FOLLOWS), "PINCER_RUNS_MAX_FOLLOWS")
            }
        }
    }

    let id: UInt64
    let kind: Kind
    private unowned let plugin: PluginContext
    private let release: pincer_release_fn?
    /// The plugin's context pointer, handed back unchanged (the plugin owns it).
    let context: UnsafeMutableRawPointer?
    /// Takes it out of the engine (set when it takes effect).
    private let removal = Mutex<(@Sendable () -> Void)?>(nil)
    private let state = Mutex((running: 0, withdrawn: false, released: false))

    private static let nextId = Atomic<UInt64>(1)

    init(plugin: PluginContext, kind: Kind, context: UnsafeMutableRawPointer?, release: pincer_release_fn?) {
        id = Registration.nextId.add(1, ordering: .relaxed).oldValue
        self.plugin = plugin
        self.kind = kind
        self.context = context
        self.release = release
    }

    func setRemoval(_ remove: @escaping @Sendable () -> Void) { removal.withLock { $0 = remove } }

    /// Counts a call as running; false when withdrawn or the plugin is stopping.
    func enter(servingRun runId: String? = nil) -> Bool {
        let admitted = state.withLock { state -> Bool in
            guard !state.withdrawn else { return false }
            state.running += 1
            return true
        }
        guard admitted else { return false }
        guard plugin.enterCallback(servingRun: runId) else {
            finish()
            return false
        }
        return true
    }

    func exit(servingRun runId: String? = nil) {
        plugin.exitCallback(servingRun: runId)
        finish()
    }

    /// No new call starts. `keepListed`: the engine keeps the hook, which then fails
    /// closed (a stopping plugin's gates block); otherwise it is taken out.
    func withdraw(keepListed: Bool = false) {
        if !keepListed { removal.withLock { $0 }?() }
        state.withLock { $0.withdrawn = true }
        releaseIfIdle()
    }

    private func finish() {
        state.withLock { $0.running -= 1 }
        releaseIfIdle()
    }

    private func releaseIfIdle() {
        let due = state.withLock { state -> Bool in
            guard state.withdrawn, state.running == 0, !state.released else { return false }
            state.released = true
            return true
        }
        guard due, let release else { return }
        guard plugin.releasesOpen else {
            plugin.log(plugin.id, .warn, "registration \(id) was never released: its last call returned after the plugin's drain")
            return
        }
        release(context)
    }
}
