// Every limit the headers publish is the one the host enforces: the core keeps
// its own copies (it knows no C), so this checks each against its macro; and
// every result code of result.h is the one the host names in its messages.

import CPincer
import Foundation
@testable import PincerCore
@testable import PincerHost
import Testing

@Suite struct LimitsTests {
    @Test func theHeadersLimitsAreTheHosts() {
        let pairs: [(String, Int, Int)] = [
            ("PINCER_MAX_MESSAGE_BYTES", Int(PINCER_MAX_MESSAGE_BYTES), InputLimits.messageBytes),
            ("PINCER_MAX_SYSTEM_PROMPT_BYTES", Int(PINCER_MAX_SYSTEM_PROMPT_BYTES), InputLimits.systemPromptBytes),
            ("PINCER_MAX_LABEL_BYTES", Int(PINCER_MAX_LABEL_BYTES), InputLimits.labelBytes),
            ("PINCER_MAX_POLICY_PATTERNS", Int(PINCER_MAX_POLICY_PATTERNS), InputLimits.patterns),
            ("PINCER_MAX_PATTERN_BYTES", Int(PINCER_MAX_PATTERN_BYTES), InputLimits.patternBytes),
            ("PINCER_MAX_METADATA_BYTES", Int(PINCER_MAX_METADATA_BYTES), InputLimits.metadataBytes),
            ("PINCER_MAX_METADATA_NAMESPACES", Int(PINCER_MAX_METADATA_NAMESPACES), InputLimits.metadataNamespaces),
            ("PINCER_MAX_QUEUED_RUNS", Int(PINCER_MAX_QUEUED_RUNS), InputLimits.queuedRuns),
            ("PINCER_MAX_QUEUED_MESSAGE_BYTES", Int(PINCER_MAX_QUEUED_MESSAGE_BYTES), InputLimits.queuedMessageBytes),
            ("PINCER_MAX_TIMEOUT_SECONDS", Int(PINCER_MAX_TIMEOUT_SECONDS), InputLimits.timeoutSeconds),
            ("PINCER_STEER_MAX_PENDING", Int(PINCER_STEER_MAX_PENDING), Engine.maxPendingSteers),
            ("PINCER_HOOK_MAX_NESTING", Int(PINCER_HOOK_MAX_NESTING), HookLimits.maxNesting),
            ("PINCER_HOOK_MAX_PENDING_GATES", Int(PINCER_HOOK_MAX_PENDING_GATES), HookLimits.maxPendingGates),
            ("PINCER_HOOK_MAX_QUEUED_EVENTS", Int(PINCER_HOOK_MAX_QUEUED_EVENTS), HookLimits.maxQueuedEvents),
            ("PINCER_HOOK_MAX_QUEUED_EVENT_BYTES", Int(PINCER_HOOK_MAX_QUEUED_EVENT_BYTES), HookLimits.maxQueuedBytes),
            ("PINCER_RATE_LIMIT_MAX_REQUESTS", Int(PINCER_RATE_LIMIT_MAX_REQUESTS), Int(SlidingWindowLimiter.maxRequestsLimit)),
            ("PINCER_RATE_LIMIT_EXACT_REQUESTS", Int(PINCER_RATE_LIMIT_EXACT_REQUESTS), SlidingWindowLimiter.exactRequests),
            ("PINCER_RATE_LIMIT_BUCKETS", Int(PINCER_RATE_LIMIT_BUCKETS), Int(SubWindowCounts.subWindows)),
            ("PINCER_LOG_MAX_BYTES", Int(PINCER_LOG_MAX_BYTES), LogLine.maxBytes),
            ("PINCER_TOOL_RESULT_MAX_BYTES", Int(PINCER_TOOL_RESULT_MAX_BYTES), PluginTool.outputLimit),
            ("PINCER_HOOK_REASON_MAX_BYTES", Int(PINCER_HOOK_REASON_MAX_BYTES), PluginHook.reasonLimit),
            ("PINCER_HOOK_PATCH_MAX_BYTES", Int(PINCER_HOOK_PATCH_MAX_BYTES), PluginHook.patchLimit),
        ]
        for (name, header, host) in pairs { #expect(header == host, "\(name) is \(header) in the header, \(host) in the host") }
        #expect(Int(SlidingWindowLimiter.maxWindowMs) == 30 * 24 * 3600 * 1000)
    }

    @Test func everyResultCodeOfResultHIsTheOneTheHostNames() throws {
        let header = try String(contentsOfFile: Repo.path("Include/pincer/result.h"), encoding: .utf8)
        let codes = header.split(separator: "\n").compactMap { line -> (String, Int32)? in
            let parts = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
            guard parts.count >= 3, parts[0].hasPrefix("PINCER_"), parts[1] == "=",
                  let value = Int32(parts[2].trimmingCharacters(in: CharacterSet(charactersIn: ","))) else { return nil }
            return (String(parts[0]), value)
        }
        #expect(codes.count == 12, "\(codes)")
        for (name, value) in codes {
            #expect(ResultCode.name(value) == name)
            #expect(ResultCode.isKnown(value))
        }
        #expect(!ResultCode.isKnown(Int32(codes.count)))
    }
}
