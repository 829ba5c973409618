// A plugin author outside this repository builds a plugin from the installed
// kit alone — each language's example, copied out and pointed at the kit; a
// plugin of one's own with CMake's find_package or with pkg-config — and it
// loads. The README shows each example exactly as the kit ships it.

import Foundation
import PincerCore
@testable import PincerHost
import Synchronization
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

    /// What the tools answered in a session of the example plugin `id`, whose gate guards its own sessions.
    private func toolResults(of id: String, in t: TestHost, message: String) throws -> [String] {
        let started = try t.engine.spawn(SessionSpec(message: message), by: .plugin(id))
        #expect(try t.engine.wait(runId: started.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        return try t.engine.transcript(sessionKey: started.sessionKey, by: .operator).filter { $0.role == .tool }.map(\.content)
    }

    /// The kit, installed once per test process into a temporary prefix, as `cmake --install` gives it to an author.
    private static let installedKit = Mutex<String?>(nil)

    static func kit() throws -> String {
        try installedKit.withLock { prefix in
            if let prefix { return prefix }
            let installed = try Fixtures.scratchDirectory("kit") + "/prefix"
            try runCommand("/usr/bin/env", ["cmake", "-S", Repo.root.path, "-B", installed + "-build", "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release"])
            try runCommand("/usr/bin/env", ["cmake", "--build", installed + "-build"])
            try runCommand("/usr/bin/env", ["cmake", "--install", installed + "-build", "--prefix", installed])
            prefix = installed
            return installed
        }
    }

    /// An example of the installed kit copied into `directory`, as an author starts from it: outside the
    /// repository and outside the kit, its path to the kit pointed at the installed one.
    private func example(_ name: String, into directory: String, kitPath: (String, String)? = nil) throws -> String {
        let kit = try Self.kit()
        let copy = "\(directory)/\(name)"
        try FileManager.default.copyItem(atPath: "\(kit)/share/pincer/examples/\(name)", toPath: copy)
        if let (file, relative) = kitPath {
            let text = try String(contentsOfFile: "\(copy)/\(file)", encoding: .utf8)
            #expect(text.contains(relative), "\(file) no longer says \(relative)")
            try text.replacingOccurrences(of: relative, with: "\(kit)/share/pincer")
                .write(toFile: "\(copy)/\(file)", atomically: true, encoding: .utf8)
        }
        return copy
    }

    /// The README shows each language's example exactly as the kit ships it.
    @Test(arguments: [("c", "hello-c/hello.c"), ("cpp", "hello-cpp/hello.cpp"), ("swift", "hello-swift/Sources/Hello/Hello.swift"),
                      ("toml", "hello-rust/Cargo.toml"), ("rust", "hello-rust/src/lib.rs")])
    func theREADMEShowsTheKitsExample(language: String, file: String) throws {
        #expect(try Repo.codeBlock(language, in: "README.md") == String(contentsOfFile: Repo.path("SDKs/examples/\(file)"), encoding: .utf8))
    }

    @Test func theKitsGuideShowsAConfigTheHostAccepts() throws {
        let config = try OperatorConfig.parse(try Repo.codeBlock("json", in: "SDKs/README.md"), source: "SDKs/README.md")
        #expect(config.entries["hello"]?.required == true)
        #expect(config.engine.fullSessionAccess == ["hello"])
    }

    @Test func theKitsCExampleBuildsOutsideWithCMakeAndLoads() throws {
        let t = try TestHost()
        defer { t.close() }
        let project = try example("hello-c", into: t.directory)
        try runCommand("/usr/bin/env", ["cmake", "-S", project, "-B", "\(project)/build", "-G", "Ninja", "-DCMAKE_PREFIX_PATH=\(try Self.kit())"])
        try runCommand("/usr/bin/env", ["cmake", "--build", "\(project)/build"])
        let plugin = "\(project)/build/plugins/libhello.so"
        #expect(try exportedSymbols(plugin) == ["pincer_plugin"])
        #expect(t.host.load(file: plugin).state == .loaded)
        t.host.start()
        #expect(t.logs.contains("[hello] info: hello"))
        #expect(try toolResults(of: "hello", in: t, message: #"@clock @echo{"text":"hi"}"#)
                == ["tool 'clock' blocked by plugin 'hello' (before_tool_call hook): no clocks here", "hi"])
    }

    @Test func theKitsCppExampleBuildsOutsideWithCMakeAndLoads() throws {
        let t = try TestHost()
        defer { t.close() }
        let project = try example("hello-cpp", into: t.directory)
        try runCommand("/usr/bin/env", ["cmake", "-S", project, "-B", "\(project)/build", "-G", "Ninja", "-DCMAKE_PREFIX_PATH=\(try Self.kit())",
                                        "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror"])
        try runCommand("/usr/bin/env", ["cmake", "--build", "\(project)/build"])
        let plugin = "\(project)/build/plugins/libhello_cpp.so"
        #expect(try exportedSymbols(plugin) == ["pincer_plugin"])
        #expect(t.host.load(file: plugin).state == .loaded)
        #expect(t.logs.contains("[hello-cpp] info: hello from C++"))
        #expect(try toolResults(of: "hello-cpp", in: t, message: #"@clock @echo{"text":"hi"}"#)
                == ["tool 'clock' blocked by plugin 'hello-cpp' (before_tool_call hook): no clocks here", "hi"])
    }

    /// The Swift example against the installed PincerPluginKit, its headers reached through the kit's symlink.
    @Test func theKitsSwiftExampleBuildsOutsideAndLoads() throws {
        let t = try TestHost()
        defer { t.close() }
        let package = try example("hello-swift", into: t.directory, kitPath: ("Package.swift", "\\(Context.packageDirectory)/../.."))
        // SwiftPM keeps its lock files in the temporary directory: this test's own, not /tmp.
        try runCommand("/usr/bin/env", ["swift", "build", "--package-path", package],
                       environment: ProcessInfo.processInfo.environment.merging(["TMPDIR": t.directory]) { $1 })
        let plugin = "\(package)/.build/debug/libhello-swift.so"
        #expect(try exportedSymbols(plugin) == ["pincer_plugin_get"])
        #expect(t.host.load(file: plugin).state == .loaded)
        #expect(t.logs.contains("[hello-swift] info: hello"))
        #expect(try toolResults(of: "hello-swift", in: t, message: #"@clock @hello-swift.greet{"name":"Ada"}"#)
                == ["tool 'clock' blocked by plugin 'hello-swift' (before_tool_call hook): no clocks here", #"Hello from Swift, {"name":"Ada"}"#])
    }

    @Test func theKitsRustExampleBuildsOutsideWithCargoAndLoads() throws {
        let t = try TestHost()
        defer { t.close() }
        let crate = try example("hello-rust", into: t.directory, kitPath: ("Cargo.toml", "../.."))
        let plugin = try Cargo.plugin(crate, library: "hello_rust", into: t.directory, as: "libhello-rust.so")
        #expect(try exportedSymbols(plugin) == ["pincer_plugin"])
        let record = t.host.load(file: plugin)
        #expect(record.state == .loaded && record.language == "rust", "\(record.reason ?? "")")
        #expect(t.logs.contains("[hello-rust] info: hello from Rust"))
        #expect(try toolResults(of: "hello-rust", in: t, message: #"@clock @hello-rust.greet{"to":"you"}"#)
                == ["tool 'clock' blocked by plugin 'hello-rust' (before_tool_call hook): no clocks here", #"hello, {"to":"you"}"#])
    }

    @Test func aPluginBuiltWithTheInstalledCMakePackageAndPkgConfigLoads() throws {
        let t = try TestHost()
        defer { t.close() }
        let prefix = try Self.kit()

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
