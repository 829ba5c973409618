// ABI rule 8: layout is tested, not assumed. One description of every struct
// (Include/pincer/layout/abi-1.0.json) is checked against four readers of
// the header: the C compiler (offsetof / sizeof / _Alignof), libffi's
// ffi_get_struct_offsets (an oracle that knows nothing of the header),
// Swift's import of it (what the host's thunks read and write), and the Rust
// SDK's #[repr(C)] mirror of it (what Rust plugins read and write).

import CPincer
import Foundation
import PincerCore
import Testing

struct StructLayout: Equatable, CustomStringConvertible {
    var size: Int
    var align: Int
    var offsets: [String: Int]
    var description: String { "size \(size) align \(align) \(offsets.sorted { $0.key < $1.key })" }
}

/// The description file, read with the project's own JSON parser.
enum LayoutDescription {
    struct Field { var name: String; var type: String; var offset: Int }
    struct Struct { var name: String; var size: Int; var align: Int; var fields: [Field] }

    /// The structs minor 1.1 adds (gateway.h, runs.h).
    static let minor11 = Repo.path("Include/pincer/layout/abi-1.1.json")
    /// The structs minor 1.2 adds (acp.h).
    static let minor12 = Repo.path("Include/pincer/layout/abi-1.2.json")

    static func load(_ path: String = Repo.path("Include/pincer/layout/abi-1.0.json")) throws -> [Struct] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let json = try JSON.parse(text)
        return try #require(json["structs"]?.arrayValue).map { s in
            Struct(name: s["name"]!.stringValue!, size: s["size"]!.wholeNumber!, align: s["align"]!.wholeNumber!,
                   fields: s["fields"]!.arrayValue!.map {
                       Field(name: $0["name"]!.stringValue!, type: $0["type"]!.stringValue!, offset: $0["offset"]!.wholeNumber!)
                   })
        }
    }

    /// How `current` breaks extension.h's growth rule against `frozen`: every frozen struct
    /// stays, its fields keep name, type and offset, and only a struct that starts with
    /// struct_size (never the host table) may gain fields, at its tail.
    static func growthViolations(frozen: [Struct], current: [Struct]) -> [String] {
        var violations: [String] = []
        for old in frozen {
            guard let new = current.first(where: { $0.name == old.name }) else {
                violations.append("\(old.name) was removed")
                continue
            }
            for (i, field) in old.fields.enumerated() {
                let same = i < new.fields.count && new.fields[i].name == field.name && new.fields[i].type == field.type
                    && new.fields[i].offset == field.offset
                if !same { violations.append("\(old.name).\(field.name) moved, retyped or renamed") }
            }
            if new.fields.count > old.fields.count || new.size != old.size {
                let sized = old.fields.first?.name == "struct_size" || old.fields.dropFirst().first?.name == "struct_size"
                if !sized || old.name == "pincer_host" {
                    violations.append("\(old.name) grew, but only a struct starting with struct_size may (the host table never does)")
                } else if new.size < old.size || new.align != old.align {
                    violations.append("\(old.name) shrank or changed its alignment")
                }
            }
        }
        return violations
    }

    static func expected(_ s: Struct) -> StructLayout {
        StructLayout(size: s.size, align: s.align, offsets: Dictionary(uniqueKeysWithValues: s.fields.map { ($0.name, $0.offset) }))
    }

    /// A C program, generated from the description, that prints each struct's layout as the
    /// compiler sees it ("c …") and as libffi computes it from the field types alone ("ffi …").
    static func probeSource(_ structs: [Struct]) -> String {
        var c = "#include <pincer/pincer.h>\n#include <ffi.h>\n#include <stddef.h>\n#include <stdio.h>\n\nint main(void) {\n"
        for s in structs {
            c += "    printf(\"c %s size %zu align %zu\\n\", \"\(s.name)\", sizeof(\(s.name)), _Alignof(\(s.name)));\n"
            for f in s.fields {
                c += "    printf(\"c %s.%s %zu\\n\", \"\(s.name)\", \"\(f.name)\", offsetof(\(s.name), \(f.name)));\n"
            }
            var elements: [String] = []
            for f in s.fields {
                switch f.type {
                case "u32": elements.append("&ffi_type_uint32")
                case "i32": elements.append("&ffi_type_sint32")
                case "u64", "size_t": elements.append("&ffi_type_uint64")
                case "bool": elements.append("&ffi_type_uint8")
                case "ptr": elements.append("&ffi_type_pointer")
                case let t where t.hasPrefix("char["):
                    // A char array lays out like a struct of that many bytes.
                    let n = Int(t.dropFirst(5).dropLast())!
                    c += "    ffi_type *\(s.name)_\(f.name)_bytes[\(n + 1)];\n"
                    c += "    for (int i = 0; i < \(n); i++) \(s.name)_\(f.name)_bytes[i] = &ffi_type_uint8;\n"
                    c += "    \(s.name)_\(f.name)_bytes[\(n)] = NULL;\n"
                    c += "    ffi_type \(s.name)_\(f.name)_type = {0, 0, FFI_TYPE_STRUCT, \(s.name)_\(f.name)_bytes};\n"
                    elements.append("&\(s.name)_\(f.name)_type")
                default: elements.append("&\(f.type)_ffi") // a struct described earlier
                }
            }
            c += "    ffi_type *\(s.name)_elements[] = {\(elements.joined(separator: ", ")), NULL};\n"
            c += "    ffi_type \(s.name)_ffi = {0, 0, FFI_TYPE_STRUCT, \(s.name)_elements};\n"
            c += "    size_t \(s.name)_offsets[\(s.fields.count)];\n"
            c += "    if (ffi_get_struct_offsets(FFI_DEFAULT_ABI, &\(s.name)_ffi, \(s.name)_offsets) != FFI_OK) return 2;\n"
            c += "    printf(\"ffi %s size %zu align %u\\n\", \"\(s.name)\", \(s.name)_ffi.size, (unsigned)\(s.name)_ffi.alignment);\n"
            for (i, f) in s.fields.enumerated() {
                c += "    printf(\"ffi %s.%s %zu\\n\", \"\(s.name)\", \"\(f.name)\", \(s.name)_offsets[\(i)]);\n"
            }
        }
        return c + "    return 0;\n}\n"
    }

    /// Parses the probe's output for one reader ("c" or "ffi").
    static func parse(_ output: String, reader: String) -> [String: StructLayout] {
        var result: [String: StructLayout] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            guard parts.first == reader else { continue }
            if parts.count == 6, parts[2] == "size" {
                result[parts[1]] = StructLayout(size: Int(parts[3])!, align: Int(parts[5])!, offsets: result[parts[1]]?.offsets ?? [:])
            } else if parts.count == 3 {
                let name = parts[1].split(separator: ".").map(String.init)
                result[name[0], default: StructLayout(size: 0, align: 0, offsets: [:])].offsets[name[1]] = Int(parts[2])!
            }
        }
        return result
    }
}

@Suite struct LayoutTests {
    /// Builds the ABI probe against `include` and compares it with the recorded baseline,
    /// strictly: any change, an appended tail included, fails until the baseline is
    /// re-recorded on purpose (scripts/abi-baseline) with the layout description.
    private func abidiff(include: String) throws -> (compatible: Bool, report: String) {
        let dir = NSTemporaryDirectory() + "pincer-abidiff-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try runCommand("/usr/bin/env", ["cc", "-g", "-shared", "-fPIC", "-I", include, Repo.path("Tests/Fixtures/abi/probe.c"), "-o", "\(dir)/probe.so"])
        let (status, report, _) = try runCommandStatus("/usr/bin/env", ["abidiff", Repo.path("Include/pincer/layout/abi-1.0.abixml"), "\(dir)/probe.so"])
        return (status == 0, report)
    }

    @Test func theHeadersKeepTheReleasedABI() throws {
        let result = try abidiff(include: Repo.path("Include"))
        #expect(result.compatible, "abidiff against Include/pincer/layout/abi-1.0.abixml:\n\(result.report)")
    }

    @Test func abidiffFlagsEvenAFieldAppendedToASizedStruct() throws {
        let copy = NSTemporaryDirectory() + "pincer-include-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try FileManager.default.copyItem(atPath: Repo.path("Include"), toPath: copy)
        let header = "\(copy)/pincer/sessions.h"
        let text = try String(contentsOfFile: header, encoding: .utf8)
        try text.replacingOccurrences(of: "    uint64_t duration_ms;\n} pincer_run_info;", with: "    uint64_t duration_ms;\n    int32_t exit_code;\n} pincer_run_info;")
            .write(toFile: header, atomically: true, encoding: .utf8)
        let result = try abidiff(include: copy)
        #expect(!result.compatible && result.report.contains("pincer_run_info"), "\(result.report)")
    }

    @Test func theCCompilerAndLibffiAgreeWithTheDescription() throws {
        let structs = try LayoutDescription.load() + LayoutDescription.load(LayoutDescription.minor11) + LayoutDescription.load(LayoutDescription.minor12)
        let dir = NSTemporaryDirectory() + "pincer-layout-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try LayoutDescription.probeSource(structs).write(toFile: "\(dir)/probe.c", atomically: true, encoding: .utf8)
        try runCommand("/usr/bin/env", ["cc", "-std=c11", "-Wall", "-Werror", "-I", Repo.path("Include"), "\(dir)/probe.c", "-o", "\(dir)/probe", "-lffi"])
        let output = try runCommand("\(dir)/probe", [])
        let compiler = LayoutDescription.parse(output, reader: "c")
        let libffi = LayoutDescription.parse(output, reader: "ffi")
        for s in structs {
            #expect(compiler[s.name] == LayoutDescription.expected(s), "C compiler: \(s.name) is \(compiler[s.name].map(\.description) ?? "missing")")
            #expect(libffi[s.name] == LayoutDescription.expected(s), "libffi: \(s.name) is \(libffi[s.name].map(\.description) ?? "missing")")
        }
    }

    @Test func swiftImportsTheSameLayout() throws {
        // The padded C size of a struct is its Swift stride (Swift's size omits tail padding).
        func cLayout<T>(_ type: T.Type, _ fields: [(String, PartialKeyPath<T>)]) -> StructLayout {
            StructLayout(size: MemoryLayout<T>.stride, align: MemoryLayout<T>.alignment,
                         offsets: Dictionary(uniqueKeysWithValues: fields.map { ($0.0, MemoryLayout<T>.offset(of: $0.1)!) }))
        }
        let swift: [String: StructLayout] = [
            "pincer_version": cLayout(pincer_version.self, [("major", \.major), ("minor", \.minor), ("patch", \.patch), ("prerelease", \.prerelease)]),
            "pincer_plugin_descriptor": cLayout(pincer_plugin_descriptor.self, [
                ("struct_size", \.struct_size), ("id", \.id), ("name", \.name), ("version", \.version),
                ("description", \.description), ("capabilities", \.capabilities), ("language", \.language), ("sdk", \.sdk)]),
            "pincer_plugin_entry": cLayout(pincer_plugin_entry.self, [
                ("abi_version", \.abi_version), ("struct_size", \.struct_size), ("descriptor", \.descriptor), ("init", \.`init`),
                ("start", \.start), ("shutdown", \.shutdown), ("get_extension", \.get_extension)]),
            "pincer_spawn_request": cLayout(pincer_spawn_request.self, [
                ("struct_size", \.struct_size), ("message", \.message), ("system_prompt", \.system_prompt),
                ("tools_allow", \.tools_allow), ("tools_allow_count", \.tools_allow_count), ("tools_deny", \.tools_deny),
                ("tools_deny_count", \.tools_deny_count), ("model", \.model), ("timeout_seconds", \.timeout_seconds),
                ("label", \.label), ("metadata_json", \.metadata_json)]),
            "pincer_spawn_result": cLayout(pincer_spawn_result.self, [("struct_size", \.struct_size), ("session_key", \.session_key), ("run_id", \.run_id)]),
            "pincer_prompt_request": cLayout(pincer_prompt_request.self, [("struct_size", \.struct_size), ("session_key", \.session_key), ("text", \.text)]),
            "pincer_run_ref": cLayout(pincer_run_ref.self, [("struct_size", \.struct_size), ("run_id", \.run_id)]),
            "pincer_run_info": cLayout(pincer_run_info.self, [("struct_size", \.struct_size), ("status", \.status), ("final_text", \.final_text), ("error", \.error), ("duration_ms", \.duration_ms)]),
            "pincer_rate_limit_result": cLayout(pincer_rate_limit_result.self, [("struct_size", \.struct_size), ("allowed", \.allowed), ("remaining", \.remaining), ("retry_after_ms", \.retry_after_ms)]),
            "pincer_host": cLayout(pincer_host.self, [
                ("abi_version", \.abi_version), ("struct_size", \.struct_size), ("host_data", \.host_data), ("host_name", \.host_name),
                ("host_version", \.host_version), ("get_extension", \.get_extension), ("last_error", \.last_error), ("alloc", \.alloc),
                ("free", \.free), ("log", \.log), ("get_config", \.get_config), ("spawn", \.spawn), ("prompt", \.prompt),
                ("cancel_run", \.cancel_run), ("wait", \.wait), ("messages", \.messages), ("get_session", \.get_session),
                ("is_streaming", \.is_streaming), ("get_metadata", \.get_metadata), ("steer", \.steer), ("delete_session", \.delete_session),
                ("set_metadata", \.set_metadata), ("rate_limit_check", \.rate_limit_check), ("rate_limit_reset", \.rate_limit_reset),
                ("status", \.status), ("models", \.models), ("gateway_request", \.gateway_request), ("register_tool", \.register_tool),
                ("register_hook", \.register_hook), ("unregister", \.unregister), ("run_stop_requested", \.run_stop_requested)]),
            "pincer_tool_call": cLayout(pincer_tool_call.self, [
                ("struct_size", \.struct_size), ("session_key", \.session_key), ("session_id", \.session_id), ("run_id", \.run_id),
                ("tool_call_id", \.tool_call_id), ("tool_name", \.tool_name), ("arguments_json", \.arguments_json),
                ("workspace_dir", \.workspace_dir)]),
            "pincer_tool_definition": cLayout(pincer_tool_definition.self, [
                ("struct_size", \.struct_size), ("name", \.name), ("description", \.description), ("parameters_json", \.parameters_json),
                ("group", \.group), ("invoke", \.invoke), ("context", \.context), ("release", \.release)]),
            "pincer_hook_event": cLayout(pincer_hook_event.self, [
                ("struct_size", \.struct_size), ("point", \.point), ("session_key", \.session_key), ("session_id", \.session_id),
                ("run_id", \.run_id), ("owner", \.owner), ("workspace_dir", \.workspace_dir), ("tool_name", \.tool_name),
                ("tool_call_id", \.tool_call_id), ("payload_json", \.payload_json)]),
            "pincer_hook_decision": cLayout(pincer_hook_decision.self, [
                ("struct_size", \.struct_size), ("verdict", \.verdict), ("reason", \.reason), ("patch_json", \.patch_json)]),
            "pincer_hook_definition": cLayout(pincer_hook_definition.self, [
                ("struct_size", \.struct_size), ("point", \.point), ("priority", \.priority), ("deadline_ms", \.deadline_ms),
                ("call", \.call), ("context", \.context), ("release", \.release)]),
            // 1.1: gateway.h
            "pincer_gateway_header": cLayout(pincer_gateway_header.self, [("name", \.name), ("value", \.value)]),
            "pincer_gateway_request": cLayout(pincer_gateway_request.self, [
                ("struct_size", \.struct_size), ("kind", \.kind), ("reply", \.reply), ("method", \.method), ("path", \.path),
                ("query", \.query), ("headers", \.headers), ("header_count", \.header_count), ("body", \.body), ("body_len", \.body_len),
                ("principal", \.principal), ("client_address", \.client_address)]),
            "pincer_gateway_method_definition": cLayout(pincer_gateway_method_definition.self, [
                ("struct_size", \.struct_size), ("name", \.name), ("description", \.description), ("handler", \.handler),
                ("context", \.context), ("release", \.release)]),
            "pincer_gateway_route_definition": cLayout(pincer_gateway_route_definition.self, [
                ("struct_size", \.struct_size), ("flags", \.flags), ("method", \.method), ("path", \.path), ("handler", \.handler),
                ("context", \.context), ("release", \.release)]),
            "pincer_gateway_response": cLayout(pincer_gateway_response.self, [
                ("struct_size", \.struct_size), ("status", \.status), ("headers", \.headers), ("header_count", \.header_count),
                ("body", \.body), ("body_len", \.body_len)]),
            "pincer_gateway_v1": cLayout(pincer_gateway_v1.self, [
                ("struct_size", \.struct_size), ("register_method", \.register_method), ("register_route", \.register_route),
                ("reply_result", \.reply_result), ("reply_error", \.reply_error), ("respond", \.respond),
                ("stream_start", \.stream_start), ("stream_write", \.stream_write), ("stream_end", \.stream_end)]),
            // 1.1: runs.h
            "pincer_run_event": cLayout(pincer_run_event.self, [
                ("struct_size", \.struct_size), ("kind", \.kind), ("run_id", \.run_id), ("seq", \.seq), ("missed", \.missed),
                ("event_json", \.event_json), ("status", \.status), ("final_text", \.final_text), ("error", \.error),
                ("duration_ms", \.duration_ms)]),
            "pincer_run_follow": cLayout(pincer_run_follow.self, [
                ("struct_size", \.struct_size), ("flags", \.flags), ("run_id", \.run_id), ("on_event", \.on_event),
                ("context", \.context), ("release", \.release)]),
            "pincer_runs_v1": cLayout(pincer_runs_v1.self, [("struct_size", \.struct_size), ("follow", \.follow)]),
            // 1.2: acp.h
            "pincer_acp_v1": cLayout(pincer_acp_v1.self, [("struct_size", \.struct_size), ("spawn", \.spawn), ("agents", \.agents)]),
        ]
        let structs = try LayoutDescription.load() + LayoutDescription.load(LayoutDescription.minor11) + LayoutDescription.load(LayoutDescription.minor12)
        #expect(Set(swift.keys) == Set(structs.map(\.name)), "the Swift table and the description list different structs")
        for s in structs {
            #expect(swift[s.name] == LayoutDescription.expected(s), "Swift: \(s.name) is \(swift[s.name].map(\.description) ?? "missing")")
        }
    }

    @Test func theRustSDKLaysOutEveryStructTheSame() throws {
        // The crate's probe prints size_of / align_of / offset_of! in the C probe's format, reader "rust".
        let output = try Cargo.run(["run", "--offline", "-j", "1", "--quiet", "--manifest-path", Repo.path("SDKs/rust/Cargo.toml"),
                                    "--example", "layout"])
        let rust = LayoutDescription.parse(output, reader: "rust")
        let structs = try LayoutDescription.load() + LayoutDescription.load(LayoutDescription.minor11) + LayoutDescription.load(LayoutDescription.minor12)
        #expect(Set(rust.keys) == Set(structs.map(\.name)), "the Rust crate and the description list different structs")
        for s in structs {
            #expect(rust[s.name] == LayoutDescription.expected(s), "Rust: \(s.name) is \(rust[s.name].map(\.description) ?? "missing")")
        }
    }

    // extension.h's growth rule, checked against the frozen copy of the description.

    @Test func theDescriptionGrowsOnlyAtTheTailOfSizedStructs() throws {
        let frozen = try LayoutDescription.load(Repo.path("Tests/Fixtures/abi/1.0/layout/abi-1.0.json"))
        let current = try LayoutDescription.load()
        #expect(LayoutDescription.growthViolations(frozen: frozen, current: current) == [])
    }

    @Test func theGrowthCheckAcceptsATailAndNothingElse() throws {
        let frozen = try LayoutDescription.load()
        func changed(_ name: String, _ change: (inout LayoutDescription.Struct) -> Void) -> [LayoutDescription.Struct] {
            frozen.map { s in
                var s = s
                if s.name == name { change(&s) }
                return s
            }
        }
        let tail = changed("pincer_run_info") { $0.fields.append(.init(name: "tokens", type: "u64", offset: 32)); $0.size = 40 }
        #expect(LayoutDescription.growthViolations(frozen: frozen, current: tail) == [])
        let moved = changed("pincer_run_info") { $0.fields[2].offset += 8 }
        #expect(LayoutDescription.growthViolations(frozen: frozen, current: moved) == ["pincer_run_info.final_text moved, retyped or renamed"])
        let retyped = changed("pincer_spawn_request") { $0.fields[8].type = "u64" }
        #expect(LayoutDescription.growthViolations(frozen: frozen, current: retyped) == ["pincer_spawn_request.timeout_seconds moved, retyped or renamed"])
        let unsized = changed("pincer_version") { $0.fields.append(.init(name: "build", type: "u32", offset: 16)); $0.size = 20 }
        #expect(LayoutDescription.growthViolations(frozen: frozen, current: unsized) == ["pincer_version grew, but only a struct starting with struct_size may (the host table never does)"])
        let host = changed("pincer_host") { $0.fields.append(.init(name: "later", type: "ptr", offset: $0.size)); $0.size += 8 }
        #expect(LayoutDescription.growthViolations(frozen: frozen, current: host) == ["pincer_host grew, but only a struct starting with struct_size may (the host table never does)"])
        let removed = frozen.filter { $0.name != "pincer_tool_call" }
        #expect(LayoutDescription.growthViolations(frozen: frozen, current: removed) == ["pincer_tool_call was removed"])
    }
}
