// A plugin author outside this repository builds a plugin from the installed
// ABI alone, with CMake's find_package or with pkg-config, and it loads.

import Foundation
import PincerCore
@testable import PincerHost
import Testing

@Suite struct PackagingTests {
    static let plugin = """
        #include <pincer/pincer.h>
        static pincer_result init(const pincer_host *h, const char *p, char *e, size_t c) { (void)p; (void)e; (void)c; return h->log(h, PINCER_LOG_INFO, "outside"); }
        static void shutdown(const pincer_host *h) { (void)h; }
        static const pincer_plugin_descriptor d = {sizeof d, "outside", "Outside", "2.0.0", NULL, NULL};
        PINCER_EXPORT const pincer_plugin_entry pincer_plugin = {PINCER_ABI_VERSION_INIT, sizeof(pincer_plugin_entry), &d, init, NULL, shutdown, NULL};
        static int helper_that_must_stay_hidden(void) { return 1; }
        int exported_by_mistake(void) { return helper_that_must_stay_hidden(); }
        """

    /// Writes the README's first code block in `language` to `path`, as an author would copy it.
    private func readmeExample(_ language: String, into path: String) throws -> String {
        let readme = try String(contentsOfFile: Repo.path("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "```\(language)\n"))
        let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        try String(readme[start.upperBound..<end.lowerBound]).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// What the tools answered in a session of the README plugin `id`, whose gate guards its own sessions.
    private func toolResults(of id: String, in t: TestHost, message: String) throws -> [String] {
        let started = try t.engine.spawn(SessionSpec(message: message), by: .plugin(id))
        #expect(try t.engine.wait(runId: started.runId, timeoutMs: 10_000).status == .completed)
        return try t.engine.transcript(sessionKey: started.sessionKey).filter { $0.role == .tool }.map(\.content)
    }

    @Test func theREADMEsPluginCompilesCleanlyAndLoads() throws {
        let t = try TestHost()
        defer { t.close() }
        let source = try readmeExample("c", into: "\(t.directory)/hello.c")
        let plugin = "\(t.directory)/libhello.so"
        try runCommand("/usr/bin/env", ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-I", Repo.path("Include"), source,
                                        "-o", plugin, "-Wl,--version-script=" + Repo.path("Include/pincer/pincer-plugin.map")])
        #expect(t.host.load(file: plugin).state == .loaded)
        t.host.start()
        #expect(t.logs.contains("[hello] info: hello"))
        #expect(try toolResults(of: "hello", in: t, message: #"@clock @echo{"text":"hi"}"#)
                == ["tool 'clock' blocked by plugin 'hello' (before_tool_call hook): no clocks here", "hi"])
    }

    /// The README's Swift plugin, in a package made from the kit's template (the sample's
    /// manifest, renamed) outside the repository: PINCER_INCLUDE points it at the headers.
    @Test func theREADMEsSwiftPluginBuildsFromTheTemplateAndLoads() throws {
        let t = try TestHost()
        defer { t.close() }
        let package = "\(t.directory)/hello-swift"
        try FileManager.default.createDirectory(atPath: "\(package)/Sources/Hello", withIntermediateDirectories: true)
        _ = try readmeExample("swift", into: "\(package)/Sources/Hello/Hello.swift")
        let template = try String(contentsOfFile: Repo.path("SamplePlugins/swift/session-envelope/Package.swift"), encoding: .utf8)
        try template.replacingOccurrences(of: "session-envelope", with: "hello-swift")
            .replacingOccurrences(of: "SessionEnvelope", with: "Hello")
            .replacingOccurrences(of: "../../../SDKs/swift", with: Repo.path("SDKs/swift"))
            .write(toFile: "\(package)/Package.swift", atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["PINCER_INCLUDE"] = Repo.path("Include")
        try runCommand("/usr/bin/env", ["swift", "build", "--package-path", package], environment: environment)
        let plugin = "\(package)/.build/debug/libhello-swift.so"
        #expect(try exportedSymbols(plugin) == ["pincer_plugin_get"])
        #expect(t.host.load(file: plugin).state == .loaded)
        #expect(t.logs.contains("[hello-swift] info: hello"))
        #expect(try toolResults(of: "hello-swift", in: t, message: #"@clock @hello-swift.greet{"name":"Ada"}"#)
                == ["tool 'clock' blocked by plugin 'hello-swift' (before_tool_call hook): no clocks here", #"Hello from Swift, {"name":"Ada"}"#])
    }

    @Test func theREADMEsCppPluginCompilesCleanlyAndLoads() throws {
        let t = try TestHost()
        defer { t.close() }
        let source = try readmeExample("cpp", into: "\(t.directory)/hello.cpp")
        let plugin = "\(t.directory)/libhello-cpp.so"
        try runCommand("/usr/bin/env", ["c++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden",
                                        "-I", Repo.path("Include"), source, "-o", plugin,
                                        "-Wl,--version-script=" + Repo.path("Include/pincer/pincer-plugin.map")])
        #expect(try exportedSymbols(plugin) == ["pincer_plugin"])
        #expect(t.host.load(file: plugin).state == .loaded)
        #expect(t.logs.contains("[hello-cpp] info: hello from C++"))
        #expect(try toolResults(of: "hello-cpp", in: t, message: #"@clock @echo{"text":"hi"}"#)
                == ["tool 'clock' blocked by plugin 'hello-cpp' (before_tool_call hook): no clocks here", "hi"])
    }

    @Test func theREADMEsRustPluginBuildsWithCargoAndLoads() throws {
        let t = try TestHost()
        defer { t.close() }
        // The README's Cargo.toml and lib.rs, as an author would copy them, with the SDK's path filled in.
        let crate = "\(t.directory)/hello-rust"
        try FileManager.default.createDirectory(atPath: "\(crate)/src", withIntermediateDirectories: true)
        let manifest = try String(contentsOfFile: try readmeExample("toml", into: "\(crate)/Cargo.toml"), encoding: .utf8)
        let path = try #require(manifest.range(of: #"path = "[^"]*""#, options: .regularExpression))
        try manifest.replacingCharacters(in: path, with: "path = \"\(Repo.path("SDKs/rust"))\"")
            .write(toFile: "\(crate)/Cargo.toml", atomically: true, encoding: .utf8)
        _ = try readmeExample("rust", into: "\(crate)/src/lib.rs")
        let plugin = try Cargo.plugin(crate, library: "hello_rust", into: t.directory, as: "libhello-rust.so")
        #expect(try exportedSymbols(plugin) == ["pincer_plugin"])
        let record = t.host.load(file: plugin)
        #expect(record.state == .loaded && record.language == "rust", "\(record.reason ?? "")")
        #expect(t.logs.contains("[hello-rust] info: hello from Rust"))
        #expect(try toolResults(of: "hello-rust", in: t, message: #"@clock @hello-rust.greet{"to":"you"}"#)
                == ["tool 'clock' blocked by plugin 'hello-rust' (before_tool_call hook): no clocks here", #"hello, {"to":"you"}"#])
    }

    /// Installs the ABI into a fresh prefix, as `cmake --install` does for a plugin author.
    private func install(into prefix: String) throws {
        let build = prefix + "-build"
        try runCommand("/usr/bin/env", ["cmake", "-S", Repo.root.path, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release"])
        try runCommand("/usr/bin/env", ["cmake", "--build", build])
        try runCommand("/usr/bin/env", ["cmake", "--install", build, "--prefix", prefix])
    }

    @Test func aPluginBuiltWithTheInstalledCMakePackageAndPkgConfigLoads() throws {
        let t = try TestHost()
        defer { t.close() }
        let prefix = "\(t.directory)/prefix"
        try install(into: prefix)

        // CMake: find_package + pincer_add_plugin, nothing else.
        let project = "\(t.directory)/author"
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        try PackagingTests.plugin.write(toFile: "\(project)/outside.c", atomically: true, encoding: .utf8)
        // The same plugin in C++: pincer_add_plugin builds it with hidden visibility and the version script too.
        try PackagingTests.plugin.replacingOccurrences(of: "\"outside\", \"Outside\"", with: "\"outside-cpp\", \"Outside\"")
            .replacingOccurrences(of: "(void)p; (void)e; (void)c; ", with: "")
            .replacingOccurrences(of: "const char *p, char *e, size_t c", with: "const char *, char *, size_t")
            .replacingOccurrences(of: "PINCER_EXPORT const pincer_plugin_entry", with: "const pincer_plugin_entry")
            .write(toFile: "\(project)/outside.cpp", atomically: true, encoding: .utf8)
        try """
            cmake_minimum_required(VERSION 3.20)
            project(outside C CXX)
            find_package(Pincer 1.0 REQUIRED)
            pincer_add_plugin(outside outside.c)
            pincer_add_plugin(outside_cpp outside.cpp)
            """.write(toFile: "\(project)/CMakeLists.txt", atomically: true, encoding: .utf8)
        try runCommand("/usr/bin/env", ["cmake", "-S", project, "-B", "\(project)/build", "-G", "Ninja", "-DCMAKE_PREFIX_PATH=\(prefix)"])
        try runCommand("/usr/bin/env", ["cmake", "--build", "\(project)/build"])
        let viaCMake = "\(project)/build/plugins/liboutside.so"
        let symbols = try runCommand("/usr/bin/env", ["nm", "-D", "--defined-only", viaCMake])
        #expect(symbols.contains("pincer_plugin") && !symbols.contains("exported_by_mistake"), "\(symbols)")
        let viaCMakeCpp = "\(project)/build/plugins/liboutside_cpp.so"
        let cppSymbols = try runCommand("/usr/bin/env", ["nm", "-D", "--defined-only", viaCMakeCpp])
        #expect(cppSymbols.contains("pincer_plugin") && !cppSymbols.contains("exported_by_mistake"), "\(cppSymbols)")
        #expect(t.host.load(file: viaCMakeCpp).state == .loaded)

        // pkg-config: cflags and the version script from the installed .pc file.
        let env = ProcessInfo.processInfo.environment.merging(["PKG_CONFIG_PATH": "\(prefix)/share/pkgconfig"]) { $1 }
        let cflags = try runCommand("/usr/bin/env", ["pkg-config", "--cflags", "pincer"], environment: env)
            .split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        let script = try runCommand("/usr/bin/env", ["pkg-config", "--variable=versionscript", "pincer"], environment: env)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let viaPkgConfig = "\(t.directory)/libviapc.so"
        try runCommand("/usr/bin/env", ["cc", "-shared", "-fPIC"] + cflags + ["\(project)/outside.c", "-o", viaPkgConfig, "-Wl,--version-script=\(script)"])

        #expect(t.host.load(file: viaCMake).state == .loaded)
        let second = t.host.load(file: viaPkgConfig)
        #expect(second.reason?.contains("duplicate plugin id 'outside'") == true, "\(second.reason ?? "loaded")")
        #expect(t.logs.contains("[outside] info: outside"))
    }
}
