// Opening one .so and checking it, step by step, before any of its functions
// runs: ELF magic, dlopen(RTLD_NOW | RTLD_LOCAL), the entry symbol, the ABI
// major version (before reading anything else), struct sizes, the descriptor,
// the required functions. Each failure is one reason naming what is wrong.
// Nothing is ever dlclose()d: Swift and Rust code cannot be unloaded safely.

import CPincer
import PincerCore

#if canImport(Glibc)
import Glibc
#endif

struct OpenedPlugin {
    var record: PluginRecord
    let entry: UnsafePointer<pincer_plugin_entry>
    let requested: [String]
}

enum PluginLoader {
    struct Refusal: Error {
        var record: PluginRecord
    }

    static func open(_ path: String) -> Result<OpenedPlugin, Refusal> {
        var record = PluginRecord(file: path, state: .refused)
        func refuse(_ reason: String) -> Result<OpenedPlugin, Refusal> {
            record.reason = reason
            return .failure(Refusal(record: record))
        }

        if let problem = elfProblem(path) { return refuse(problem) }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            return refuse("dlopen failed: \(dlerror().map { String(cString: $0) } ?? "unknown error")")
        }
        guard let symbol = dlsym(handle, PINCER_ENTRY_SYMBOL) else {
            return refuse("no entry symbol '\(PINCER_ENTRY_SYMBOL)' (export it with PINCER_EXPORT and link with pincer-plugin.map)")
        }
        let entry = symbol.assumingMemoryBound(to: pincer_plugin_entry.self)
        let v = entry.pointee.abi_version
        record.abiVersion = "\(v.major).\(v.minor).\(v.patch)"
        guard v.major == UInt32(PINCER_ABI_MAJOR) else {
            return refuse("built for Pincer ABI \(record.abiVersion!); this host speaks \(PincerVersion.abi) (major versions must match)")
        }
        guard entry.pointee.struct_size >= UInt32(MemoryLayout<pincer_plugin_entry>.size) else {
            return refuse("entry struct_size is \(entry.pointee.struct_size); ABI 1.0's pincer_plugin_entry is \(MemoryLayout<pincer_plugin_entry>.size) bytes")
        }
        guard let descriptor = entry.pointee.descriptor else { return refuse("entry->descriptor is NULL") }
        guard descriptor.pointee.struct_size >= UInt32(MemoryLayout<pincer_plugin_descriptor>.size) else {
            return refuse("descriptor struct_size is \(descriptor.pointee.struct_size); ABI 1.0's pincer_plugin_descriptor is \(MemoryLayout<pincer_plugin_descriptor>.size) bytes")
        }
        let d = descriptor.pointee
        do {
            let id = try CText.requiredString(d.id, "descriptor->id", max: 64)
            guard isValidId(id) else {
                return refuse("descriptor->id '\(id)' is not 1 to 64 characters of [a-z0-9._-] starting with a letter or digit")
            }
            record.id = id
            record.name = try CText.requiredString(d.name, "descriptor->name", max: 256)
            record.version = try CText.requiredString(d.version, "descriptor->version", max: 64)
            record.description = try CText.string(d.description, "descriptor->description", max: 4096, required: false)
        } catch {
            return refuse(error.message)
        }
        var requested: [String] = []
        if let caps = d.capabilities {
            var i = 0
            while let cap = caps[i] {
                guard i < 64 else { return refuse("descriptor->capabilities has more than 64 entries (is it NULL-terminated?)") }
                do { requested.append(try CText.requiredString(cap, "descriptor->capabilities[\(i)]", max: 64)) } catch {
                    return refuse(error.message)
                }
                i += 1
            }
        }
        guard entry.pointee.`init` != nil else { return refuse("required function entry->init is NULL") }
        guard entry.pointee.shutdown != nil else { return refuse("required function entry->shutdown is NULL") }
        return .success(OpenedPlugin(record: record, entry: UnsafePointer(entry), requested: requested))
    }

    /// Why the file cannot be an ELF shared object, or nil when its header says it is one.
    static func elfProblem(_ path: String) -> String? {
        guard let file = fopen(path, "rb") else { return "cannot open: \(String(cString: strerror(errno)))" }
        defer { fclose(file) }
        var header = [UInt8](repeating: 0, count: 18)
        let n = fread(&header, 1, header.count, file)
        guard n == header.count, header[0] == 0x7F, header[1] == UInt8(ascii: "E"), header[2] == UInt8(ascii: "L"), header[3] == UInt8(ascii: "F") else {
            return "not an ELF shared object (the file does not start with the ELF magic bytes)"
        }
        let type = UInt16(header[16]) | UInt16(header[17]) << 8
        guard type == 3 else { return "an ELF file but not a shared object (e_type \(type); build it with -shared)" }
        return nil
    }

    static func isValidId(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        func ok(_ b: UInt8, first: Bool) -> Bool {
            (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || (!first && (b == 0x2E || b == 0x5F || b == 0x2D))
        }
        return ok(bytes[0], first: true) && bytes.dropFirst().allSatisfy { ok($0, first: false) }
    }
}
