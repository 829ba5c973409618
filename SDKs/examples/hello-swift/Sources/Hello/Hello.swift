import PincerPluginKit

final class Hello: Plugin {
    static let descriptor = PluginDescriptor(id: "hello-swift", name: "Hello", version: "1.0.0",
                                             capabilities: [.toolsRegister, .hooksGate])

    init(host: PincerHost) throws {
        try host.registerTool("hello-swift.greet", description: "Greets whoever 'name' says.") { call in
            "Hello from Swift, \(call.argumentsJSON)"
        }
        try host.registerHook(.beforeToolCall) { event in
            event.toolName == "clock" ? .block("no clocks here") : .proceed
        }
        try host.log(.info, "hello")
    }
}

@_cdecl("pincer_plugin_get")
public func entry() -> UnsafePointer<pincer_plugin_entry> { PluginEntry.make(Hello.self) }
