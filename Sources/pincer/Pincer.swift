// The `pincer` command line: LocalCommands (plugins list, tools list, validate,
// run, sessions) without the network and server stacks, so every start stays
// light. `serve`, `call`, and any command whose config names network providers
// (providers[]) run in pincer-server, beside this program, with the same
// arguments.
//
// Usage errors print the usage and exit 64. Anything that goes wrong once the
// arguments are understood (a config, a store, a plugins directory, a run that
// does not complete) is a RuntimeFailure: one line on stderr and an exit status
// of its own, so scripts can tell outcomes apart.

import PincerCommandLine

@main
enum Pincer {
    static func main() {
        CommandLineProgram.run(LocalCommands.root(adding: [serve, call]), version: LocalCommands.version)
    }

    /// `pincer serve` and `pincer call` run pincer-server (beside this program) with the same
    /// arguments (pincer-server reads them): the server stack is loaded only by the commands
    /// that need it.
    static let serve = Command("serve", abstract: "Run the host with its network gateway (pincer serve --help for its options).",
                               passesArgumentsThrough: true, action: .sync { _ in try CommandLineProgram.execServer() })
    static let call = Command("call", abstract: "Call a method of a running pincer serve (pincer call --help for its options).",
                              passesArgumentsThrough: true, action: .sync { _ in try CommandLineProgram.execServer() })
}
