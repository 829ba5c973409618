use pincer::{cap, Decision, Error, Hook, HookPoint, Host, LogLevel, Plugin, Tool};

struct Hello;

impl Plugin for Hello {
    fn init(host: Host, _plugin_path: &str) -> Result<Self, Error> {
        // A gate: runs on this plugin's gate lane before each tool call of its sessions.
        host.register_hook(Hook::at(HookPoint::BEFORE_TOOL_CALL), |event| {
            Ok(match event.tool_name {
                Some("clock") => Decision::Block("no clocks here".into()),
                _ => Decision::Continue,
            })
        })?;
        // A tool: what the closure returns is what the model reads.
        let greet = Tool { name: "hello-rust.greet", description: "Greets its arguments.", ..Default::default() };
        host.register_tool(&greet, |call| Ok(format!("hello, {}", call.arguments_json)))?;
        host.log(LogLevel::INFO, "hello from Rust")?;
        Ok(Hello)
    }
}

pincer::declare_plugin! {
    plugin: Hello,
    id: "hello-rust",
    name: "Hello",
    version: "1.0.0",
    description: "Says hello.",
    capabilities: [cap::HOOKS_GATE, cap::TOOLS_REGISTER],
}
