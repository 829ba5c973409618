// The engine most tests want: the local model without its delay between
// tokens, so a run takes as long as its work; a test changes anything else in
// `configure`.

import CoreMetrics
@testable import PincerCore

extension Engine {
    static func quick(store: (any SessionStore)? = nil, metrics: MetricsFactory? = nil,
                      configure: (inout EngineConfig) -> Void = { _ in }) throws -> Engine
    {
        var config = EngineConfig()
        config.tokenDelayMs = 0
        configure(&config)
        return try Engine(config: config, store: store, metrics: metrics)
    }
}
