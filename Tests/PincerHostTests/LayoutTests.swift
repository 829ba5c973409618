// ABI rule 8: layout is tested, not assumed. One description of every struct
// (Include/pincer/layout/abi-1.0.json) is checked against three readers of
// the header: the C compiler (offsetof / sizeof / _Alignof), libffi's
// ffi_get_struct_offsets (an oracle that knows nothing of the header), and
// Swift's import of it (what the host's thunks read and write).

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

    static func load() throws -> [Struct] {
        let text = try String(contentsOfFile: Repo.path("Include/pincer/layout/abi-1.0.json"), encoding: .utf8)
        let json = try JSON.parse(text)
        return try #require(json["structs"]?.arrayValue).map { s in
            Struct(name: s["name"]!.stringValue!, size: s["size"]!.wholeNumber!, align: s["align"]!.wholeNumber!,
                   fields: s["fields"]!.arrayValue!.map {
                       Field(name: $0["name"]!.stringValue!, type: $0["type"]!.stringValue!, offset: $0["offset"]!.wholeNumber!)
                   })
        }
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
    /// Builds the ABI probe against `include` and compares it with the released 1.0 record.
    /// Passes when nothing changed, or when the only changes are added functions (a later
    /// minor's probe for its new types); anything else is an ABI break.
    private func abidiff(include: String) throws -> (compatible: Bool, report: String) {
        let dir = NSTemporaryDirectory() + "pincer-abidiff-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try runCommand("/usr/bin/env", ["cc", "-g", "-shared", "-fPIC", "-I", include, Repo.path("Tests/Fixtures/abi/probe.c"), "-o", "\(dir)/probe.so"])
        let (status, report, _) = try runCommandStatus("/usr/bin/env", ["abidiff", Repo.path("Include/pincer/layout/abi-1.0.abixml"), "\(dir)/probe.so"])
        let onlyAdditions = report.contains("Functions changes summary: 0 Removed, 0 Changed") && report.contains("Variables changes summary: 0 Removed, 0 Changed")
        return (status == 0 || (status == 4 && onlyAdditions), report)
    }

    @Test func theHeadersKeepTheReleasedABI() throws {
        let result = try abidiff(include: Repo.path("Include"))
        #expect(result.compatible, "abidiff against Include/pincer/layout/abi-1.0.abixml:\n\(result.report)")
    }

    @Test func abidiffCatchesAFieldAddedToAFrozenStruct() throws {
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
        let structs = try LayoutDescription.load()
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
            "pincer_version": cLayout(pincer_version.self, [("major", \.major), ("minor", \.minor), ("patch", \.patch)]),
            "pincer_plugin_descriptor": cLayout(pincer_plugin_descriptor.self, [
                ("struct_size", \.struct_size), ("id", \.id), ("name", \.name), ("version", \.version),
                ("description", \.description), ("capabilities", \.capabilities)]),
            "pincer_plugin_entry": cLayout(pincer_plugin_entry.self, [
                ("abi_version", \.abi_version), ("struct_size", \.struct_size), ("descriptor", \.descriptor), ("init", \.`init`),
                ("start", \.start), ("shutdown", \.shutdown), ("get_extension", \.get_extension)]),
            "pincer_spawn_request": cLayout(pincer_spawn_request.self, [
                ("struct_size", \.struct_size), ("message", \.message), ("system_prompt", \.system_prompt),
                ("tools_allow", \.tools_allow), ("tools_allow_count", \.tools_allow_count), ("tools_deny", \.tools_deny),
                ("tools_deny_count", \.tools_deny_count), ("model", \.model), ("timeout_seconds", \.timeout_seconds),
                ("label", \.label), ("metadata_json", \.metadata_json)]),
            "pincer_spawn_result": cLayout(pincer_spawn_result.self, [("accepted", \.accepted), ("session_key", \.session_key), ("run_id", \.run_id)]),
            "pincer_run_ref": cLayout(pincer_run_ref.self, [("run_id", \.run_id)]),
            "pincer_run_info": cLayout(pincer_run_info.self, [("status", \.status), ("final_text", \.final_text), ("error", \.error), ("duration_ms", \.duration_ms)]),
            "pincer_rate_limit_result": cLayout(pincer_rate_limit_result.self, [("allowed", \.allowed), ("remaining", \.remaining), ("retry_after_ms", \.retry_after_ms)]),
            "pincer_host": cLayout(pincer_host.self, [
                ("abi_version", \.abi_version), ("struct_size", \.struct_size), ("host_data", \.host_data), ("host_name", \.host_name),
                ("host_version", \.host_version), ("get_extension", \.get_extension), ("last_error", \.last_error), ("free", \.free),
                ("log", \.log), ("get_config", \.get_config), ("spawn", \.spawn), ("prompt", \.prompt), ("wait", \.wait),
                ("messages", \.messages), ("get_session", \.get_session), ("delete_session", \.delete_session), ("cancel_run", \.cancel_run),
                ("steer", \.steer), ("is_streaming", \.is_streaming), ("rate_limit_check", \.rate_limit_check),
                ("rate_limit_reset", \.rate_limit_reset), ("status", \.status), ("models", \.models), ("gateway_request", \.gateway_request),
                ("alloc", \.alloc), ("register_tool", \.register_tool), ("get_metadata", \.get_metadata),
                ("set_metadata", \.set_metadata), ("register_hook", \.register_hook)]),
            "pincer_tool_call": cLayout(pincer_tool_call.self, [
                ("struct_size", \.struct_size), ("session_key", \.session_key), ("session_id", \.session_id), ("run_id", \.run_id),
                ("tool_call_id", \.tool_call_id), ("tool_name", \.tool_name), ("arguments_json", \.arguments_json)]),
            "pincer_tool_definition": cLayout(pincer_tool_definition.self, [
                ("struct_size", \.struct_size), ("name", \.name), ("description", \.description), ("parameters_json", \.parameters_json),
                ("group", \.group), ("invoke", \.invoke), ("context", \.context)]),
            "pincer_hook_event": cLayout(pincer_hook_event.self, [
                ("struct_size", \.struct_size), ("point", \.point), ("session_key", \.session_key), ("session_id", \.session_id),
                ("run_id", \.run_id), ("owner", \.owner), ("workspace_dir", \.workspace_dir), ("tool_name", \.tool_name),
                ("tool_call_id", \.tool_call_id), ("payload_json", \.payload_json)]),
            "pincer_hook_decision": cLayout(pincer_hook_decision.self, [
                ("struct_size", \.struct_size), ("verdict", \.verdict), ("reason", \.reason), ("patch_json", \.patch_json)]),
            "pincer_hook_definition": cLayout(pincer_hook_definition.self, [
                ("struct_size", \.struct_size), ("point", \.point), ("priority", \.priority), ("deadline_ms", \.deadline_ms),
                ("call", \.call), ("context", \.context)]),
        ]
        let structs = try LayoutDescription.load()
        #expect(Set(swift.keys) == Set(structs.map(\.name)), "the Swift table and the description list different structs")
        for s in structs {
            #expect(swift[s.name] == LayoutDescription.expected(s), "Swift: \(s.name) is \(swift[s.name].map(\.description) ?? "missing")")
        }
    }
}
