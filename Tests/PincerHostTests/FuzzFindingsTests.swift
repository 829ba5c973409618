// What scripts/fuzz found in the host, each kept as a test of its own. The inputs themselves are
// in Tests/Fuzz/regressions, which every fuzz run replays first.

import CPincer
import Foundation
@testable import PincerHost
import Testing

@Suite struct FuzzFindingsTests {
    /// A request struct whose struct_size passes its minimum but ends inside a field: the host
    /// copied as far as the size went and read the half of a pointer it had as a whole one
    /// (spawn with struct_size 20: the low half of system_prompt), then read a string there:
    /// SIGSEGV. A hook definition ending inside `release` would have had the host call half a
    /// function pointer. Such a size (no compiler lays a struct out so) is now refused, and a size
    /// that ends on a field's boundary still reads the fields it covers.
    @Test func aStructSizeEndingInsideAFieldIsRefused() throws {
        let t = try TestHost()
        defer { t.close() }
        let record = try t.load("Tests/Fuzz/peer.c", as: "finding.so", flags: ["-DFIXTURE_ID=\"fx-finding\""])
        try #require(record.state == .loaded, "\(record)")
        let h = try #require(t.host.hostTable(pluginId: "fx-finding"))
        let message = strdup("hello")!, systemPrompt = strdup("a system prompt")!
        defer { free(message); free(systemPrompt) }

        var request = pincer_spawn_request()
        request.message = UnsafePointer(message)
        request.system_prompt = UnsafePointer(systemPrompt)
        var result = pincer_spawn_result()
        for size in [17, 20, 23, 44, 68] { // each past the minimum (16), each inside a field
            request.struct_size = UInt32(size)
            result.struct_size = UInt32(MemoryLayout<pincer_spawn_result>.size)
            #expect(h.pointee.spawn(h, &request, &result) == ResultCode.invalidArgument, "struct_size \(size)")
            #expect(String(cString: h.pointee.last_error(h)!).contains("not a multiple of 8"), "struct_size \(size)")
        }
        request.struct_size = 24 // message and system_prompt, whole
        result.struct_size = UInt32(MemoryLayout<pincer_spawn_result>.size)
        #expect(h.pointee.spawn(h, &request, &result) == ResultCode.ok, "\(String(cString: h.pointee.last_error(h)!))")
        let key = withUnsafeBytes(of: &result.session_key) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        var json: UnsafeMutablePointer<CChar>?
        #expect(h.pointee.get_session(h, key, &json) == ResultCode.ok)
        #expect(json.map { String(cString: $0) }?.contains("a system prompt") == true, "the system prompt a whole field carried was lost")
        h.pointee.free(h, json)
    }
}
