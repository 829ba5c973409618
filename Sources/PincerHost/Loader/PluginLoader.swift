// Opening one .so and checking it, step by step, before any of its functions
// runs: ELF magic, dlopen(RTLD_NOW | RTLD_LOCAL), the entry (pincer_plugin_get,
// then pincer_plugin; rc1's pincer_entry is named as such), the ABI version
// (before reading anything else), the struct-size rule for the entry and the
// descriptor, the id, the required functions. Each failure is one reason
// naming what is wrong. Nothing is ever dlclose()d: Swift and Rust code cannot
// be unloaded safely.

import CPincer
import PincerCore

#if canImport(Glibc)
import Glibc
#endif

struct OpenedPlugin {
    var record: PluginRecord
    /// The entry as this host knows it (a copy: a newer plugin's longer entry is cut to it).
    let entry: pincer_plugin_entry
    /// dlopen's handle: one per image, however many paths lead to it.
    let image: UnsafeMutableRawPointer
    let requested: [String]
}

enum PluginLoader {
    struct Refusal: Error {
        var record: PluginRecord
        /// The step that refused it; `pincer validate` reports each step as a check of its own.
        var stage: Stage
    }

    /// The steps of open(), in order.
    enum Stage: Int, Comparable, Sendable {
        case file, load, entry, version, descriptor, functions

        static func < (a: Stage, b: Stage) -> Bool { a.rawValue < b.rawValue }
    }

    /// Ids the host keeps for its own principals (entry.h's PINCER_RESERVED_IDS).
    static let reservedIds = Set(PINCER_RESERVED_IDS.split(separator: " ").map(String.init))

    private typealias EntryFunction = @convention(c) () -> UnsafePointer<pincer_plugin_entry>?

    static func open(_ path: String) -> Result<OpenedPlugin, Refusal> {
        var record = PluginRecord(file: path, state: .refused)
        var stage = Stage.file
        func refuse(_ reason: String) -> Result<OpenedPlugin, Refusal> {
            record.reason = reason
            return .failure(Refusal(record: record, stage: stage))
        }

        let image: UnsafeMutableRawPointer
        switch load(path) {
        case .success(let loaded): image = loaded
        case .failure(let problem):
            // Read the header only now, to say why in the file's own terms (dlopen opens and
            // maps the file anyway: reading it first cost a loaded plugin 13 us, a fifth of it).
            if let problem = elfProblem(path) { return refuse(problem) }
            stage = .load
            return refuse(problem.reason)
        }
        stage = .entry
        let entryPointer: UnsafePointer<pincer_plugin_entry>
        if let function = dlsym(image, PINCER_ENTRY_FUNCTION_SYMBOL) {
            guard let entry = unsafeBitCast(function, to: EntryFunction.self)() else {
                return refuse("\(PINCER_ENTRY_FUNCTION_SYMBOL)() returned NULL")
            }
            entryPointer = entry
        } else if let data = dlsym(image, PINCER_ENTRY_DATA_SYMBOL) {
            entryPointer = UnsafePointer(data.assumingMemoryBound(to: pincer_plugin_entry.self))
        } else if dlsym(image, "pincer_entry") != nil {
            return refuse("built against a pre-release header (ABI 1.0-rc1 exported 'pincer_entry'); rebuild it against the 1.0-rc\(PINCER_ABI_PRERELEASE) headers, which export '\(PINCER_ENTRY_DATA_SYMBOL)' or '\(PINCER_ENTRY_FUNCTION_SYMBOL)'")
        } else {
            return refuse("no entry symbol: export '\(PINCER_ENTRY_DATA_SYMBOL)' or '\(PINCER_ENTRY_FUNCTION_SYMBOL)' with PINCER_EXPORT and link with pincer-plugin.map")
        }
        stage = .version
        let v = entryPointer.pointee.abi_version
        record.abiVersion = PincerVersion.describe(major: v.major, minor: v.minor, patch: v.patch, prerelease: v.prerelease)
        if let why = incompatibility(v) {
            return refuse("built for Pincer ABI \(record.abiVersion!); this host speaks \(PincerVersion.abi) (\(why))")
        }
        stage = .descriptor
        let entry: pincer_plugin_entry, descriptor: pincer_plugin_descriptor
        do {
            entry = try HostThunks.readSized(UnsafeRawPointer(entryPointer), "entry", "pincer_plugin_entry",
                                             required: HostThunks.end(of: \pincer_plugin_entry.shutdown),
                                             sizeOffset: MemoryLayout<pincer_plugin_entry>.offset(of: \.struct_size)!)
            guard let pointer = entry.descriptor else { return refuse("entry->descriptor is NULL") }
            descriptor = try HostThunks.request(pointer, "descriptor", "pincer_plugin_descriptor",
                                                required: HostThunks.end(of: \pincer_plugin_descriptor.version))
        } catch {
            return refuse(error.message)
        }
        do {
            let id = try CText.requiredString(descriptor.id, "descriptor->id", max: Int(PINCER_PLUGIN_ID_MAX_BYTES) * 4)
            guard isValidId(id) else {
                return refuse("descriptor->id '\(id)' is not 1 to \(PINCER_PLUGIN_ID_MAX_BYTES) characters of [a-z0-9_-] starting with a letter")
            }
            guard !reservedIds.contains(id) else {
                return refuse("descriptor->id '\(id)' is reserved for the host's own principals (\(reservedIds.sorted().joined(separator: ", ")))")
            }
            record.id = id
            record.name = try CText.requiredString(descriptor.name, "descriptor->name", max: 256)
            record.version = try CText.requiredString(descriptor.version, "descriptor->version", max: 64)
            record.description = try CText.string(descriptor.description, "descriptor->description", max: 4096, required: false)
            record.language = try CText.string(descriptor.language, "descriptor->language", max: 16, required: false)
            if let language = record.language, !isValidLanguage(language) {
                return refuse("descriptor->language '\(language)' is not 1 to 16 characters of [a-z0-9+#_-] (e.g. \"c\", \"c++\", \"swift\", \"rust\")")
            }
            record.sdk = try CText.string(descriptor.sdk, "descriptor->sdk", max: 64, required: false)
            if let sdk = record.sdk, !sdk.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) || !sdk.contains("/") {
                return refuse("descriptor->sdk '\(sdk)' is not \"<name>/<version>\" in printable ASCII without spaces")
            }
        } catch {
            return refuse(error.message)
        }
        var requested: [String] = []
        if let caps = descriptor.capabilities {
            var i = 0
            while let cap = caps[i] {
                guard i < Int(PINCER_MAX_CAPABILITIES) else {
                    return refuse("descriptor->capabilities has more than \(PINCER_MAX_CAPABILITIES) entries (is it NULL-terminated?)")
                }
                do { requested.append(try CText.requiredString(cap, "descriptor->capabilities[\(i)]", max: 64)) } catch {
                    return refuse(error.message)
                }
                i += 1
            }
        }
        stage = .functions
        guard entry.`init` != nil else { return refuse("required function entry->init is NULL") }
        guard entry.shutdown != nil else { return refuse("required function entry->shutdown is NULL") }
        return .success(OpenedPlugin(record: record, entry: entry, image: image, requested: requested))
    }

    struct LoadProblem: Error { let reason: String }

    /// dlopen(RTLD_NOW | RTLD_LOCAL): the image, or why it would not load. Runs the file's constructors.
    static func load(_ path: String) -> Result<UnsafeMutableRawPointer, LoadProblem> {
        guard let image = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            return .failure(LoadProblem(reason: "dlopen failed: \(dlerror().map { String(cString: $0) } ?? "unknown error")"))
        }
        return .success(image)
    }

    /// version.h's rule (pincer_version_is_compatible), with the reason when it refuses.
    static func incompatibility(_ v: pincer_version) -> String? {
        let major = UInt32(PINCER_ABI_MAJOR), minor = UInt32(PINCER_ABI_MINOR), prerelease = UInt32(PINCER_ABI_PRERELEASE)
        if v.major != major { return "major versions must match" }
        if v.prerelease != 0, v.minor != minor || v.prerelease != prerelease {
            return "a plugin built against a release candidate loads only in a host of that same candidate"
        }
        if v.prerelease == 0, v.minor == minor, prerelease != 0 {
            return "this host is still a release candidate of that minor version; the final headers may differ from it"
        }
        return nil
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

    /// entry.h's id grammar: [a-z][a-z0-9_-]{0,31}.
    /// entry.h: 1 to 16 characters of [a-z0-9+#_-].
    static func isValidLanguage(_ language: String) -> Bool {
        (1...16).contains(language.utf8.count)
            && language.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || "+#_-".utf8.contains($0) }
    }

    static func isValidId(_ id: String) -> Bool {
        PluginTool.isValidWord(id[...].utf8, max: Int(PINCER_PLUGIN_ID_MAX_BYTES))
    }
}
