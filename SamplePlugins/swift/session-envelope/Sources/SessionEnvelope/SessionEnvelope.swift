// session-envelope: runs each session inside the policy its creator handed
// the plugin's metadata namespace (Policy.swift says what a policy holds).
//
//   before_session_create  a malformed policy blocks the session; a valid one
//                          is stored, normalised, in the plugin's namespace
//   before_tool_call       a denied or unlisted tool, a path argument outside
//                          the allowed paths, a command off the allowlist: blocked
//
// It sees exactly the sessions whose creator handed it a namespace (hooks.h:
// that places the session under it), the operator's and other plugins' alike,
// with no wider grant; a session handed none runs without an envelope.

import Foundation
import PincerPluginKit

final class SessionEnvelope: Plugin {
    static let descriptor = PluginDescriptor(
        id: "session-envelope", name: "Session envelope", version: "0.1.0",
        summary: "Holds each session to the tools, paths and commands its creator allowed.",
        capabilities: [.hooksGate, .sessionsRead])

    init(host: PincerHost) throws {
        try host.registerHook(.beforeSessionCreate) { event in
            let payload = try JSONSerialization.jsonObject(with: Data(event.payloadJSON.utf8)) as? [String: Any]
            let namespace = payload?["metadata"].flatMap { try? JSONSerialization.data(withJSONObject: $0) }
            do {
                guard let policy = try Policy.parse(namespace.map { String(decoding: $0, as: UTF8.self) } ?? "{}",
                                                    workspace: event.workspaceDir) else { return .proceed }
                return .patch(#"{"metadata":\#(policy.json)}"#)
            } catch let malformed as Policy.Malformed {
                return .block("session-envelope: malformed policy: \(malformed)")
            }
        }
        try host.registerHook(.beforeToolCall) { event in
            // The policy as stored at creation (already normalised); none: no envelope.
            guard let policy = try Policy.parse(host.metadata(sessionKey: event.sessionKey), workspace: event.workspaceDir),
                  let tool = event.toolName else { return .proceed }
            let payload = try JSONSerialization.jsonObject(with: Data(event.payloadJSON.utf8)) as? [String: Any]
            let arguments = payload?["arguments"].flatMap { try? JSONSerialization.data(withJSONObject: $0) }
            let violation = policy.violation(tool: tool, argumentsJSON: arguments.map { String(decoding: $0, as: UTF8.self) } ?? "{}",
                                             workspace: event.workspaceDir)
            return violation.map { .block("session-envelope: \($0)") } ?? .proceed
        }
    }
}

@_cdecl("pincer_plugin_get")
public func entry() -> UnsafePointer<pincer_plugin_entry> { PluginEntry.make(SessionEnvelope.self) }
