// session-envelope: runs each session inside the policy its creator handed
// the plugin's metadata namespace (Policy.swift says what a policy holds).
//
//   before_session_create  a malformed policy blocks the session; a valid one
//                          is stored, normalised, in the plugin's namespace
//   before_tool_call       a denied or unlisted tool, a path argument outside
//                          the allowed paths, a command off the allowlist: blocked
//   session-envelope.get     (a gateway method, ABI 1.1) {"sessionKey"}: the policy
//                          a session runs under ({} for none)
//   session-envelope.update  {"sessionKey", "policy"}: replaces it, checked like
//                          one handed at creation (a malformed one changes nothing)
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
        capabilities: [.hooksGate, .sessionsRead, .sessionsMetadata, .gatewayServe])

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
        // On a host with a gateway (pincer serve), operators read and change a session's envelope.
        guard let gateway = host.gateway else { return }
        try gateway.registerMethod("session-envelope.get", description: "The policy a session runs under: {\"sessionKey\"}") { request in
            try request.reply.result(json: try host.metadata(sessionKey: try Self.sessionKey(in: request)))
        }
        try gateway.registerMethod("session-envelope.update", description: "Replaces a session's policy: {\"sessionKey\", \"policy\"}") { request in
            let key = try Self.sessionKey(in: request)
            let params = try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]
            guard let policy = params?["policy"] as? [String: Any] else {
                return try request.reply.error(code: -32602, message: "session-envelope.update: params.policy must be an object")
            }
            let text = String(decoding: try JSONSerialization.data(withJSONObject: policy, options: [.sortedKeys]), as: UTF8.self)
            do { _ = try Policy.parse(text, workspace: "/") } catch let malformed as Policy.Malformed {
                return try request.reply.error(code: -32602, message: "session-envelope.update: malformed policy: \(malformed)")
            }
            try host.setMetadata(sessionKey: key, json: text)
            try request.reply.result(json: text)
        }
    }

    /// params.sessionKey of a method call.
    static func sessionKey(in request: GatewayRequest) throws -> String {
        let params = try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]
        guard let key = params?["sessionKey"] as? String else {
            throw PincerError(.invalidArgument, "\(request.method): params.sessionKey must be a string")
        }
        return key
    }
}

@_cdecl("pincer_plugin_get")
public func entry() -> UnsafePointer<pincer_plugin_entry> { PluginEntry.make(SessionEnvelope.self) }
