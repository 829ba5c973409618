// One OpenAI-compatible server the operator names (providers[] in the config):
// where it is, the models it serves, how to authenticate, how long to wait. Read
// by the host's config parser, used by PincerOpenAI's provider; kept here so the
// config is read by programs that carry no network stack.

public struct OpenAICompatibleSettings: Sendable, Equatable {
    /// Prefixes its models' ids in the catalog: "<name>/<model>".
    public var name: String
    /// e.g. "https://api.openai.com/v1"; requests go to <baseURL>/chat/completions.
    public var baseURL: String
    public var models: [String]
    /// Context windows in tokens, by model name (a model without one lists none).
    public var contextWindows: [String: Int]
    /// The environment variable holding the API key (nil: send none, as local servers want).
    public var apiKeyEnv: String?
    /// Longest silence from the server, before and while it streams.
    public var timeoutSeconds: Double = 60
    /// Further attempts after a transient failure (unreachable, HTTP 429 or 5xx) before anything streamed.
    public var maxRetries = 2

    public init(name: String, baseURL: String, models: [String], contextWindows: [String: Int] = [:], apiKeyEnv: String? = nil,
                timeoutSeconds: Double = 60, maxRetries: Int = 2)
    {
        self.name = name
        self.baseURL = baseURL
        self.models = models
        self.contextWindows = contextWindows
        self.apiKeyEnv = apiKeyEnv
        self.timeoutSeconds = timeoutSeconds
        self.maxRetries = maxRetries
    }
}
