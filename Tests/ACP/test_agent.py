#!/usr/bin/env python3
"""Pincer's ACP test agent: one agent that walks every client-side path of ACP v1.

Run it as `build/venv/bin/python Tests/ACP/test_agent.py` (scripts/python-peers puts the
official ACP Python SDK, agent-client-protocol 0.12.1, into build/venv). It speaks ACP over
its stdin/stdout, logs one line per prompt (and little else) to stderr, and picks what a
turn does from the first word of the prompt's text:

    hello (or anything else)   "You said: <text>" in two agent_message_chunks, end_turn
    plan                       a plan update and an agent_thought_chunk, then the reply
    read <relative-path>       tool_call (read, pending), session/request_permission, then
                               fs/read_text_file of <cwd>/<path>; reply "read: <content>"
    write <relative-path> <t>  the same with kind edit, a diff, and fs/write_text_file
    readabs <absolute-path>    fs/read_text_file of the path as given, no permission asked
    terminal <command ...>     terminal/create, wait_for_exit, output, release
    slow                       "tick N" every 0.2 s until session/cancel -> cancelled
    pause <ms>                 one chunk, a pause of <ms>, then the echo (cancel ends it early)
    crash                      one chunk, then the process exits with status 3
    garbage                    a line that is not JSON on stdout, then the reply
    usage                      usage_update, current_mode_update, session_info_update and
                               an update kind no client knows ("future_thing"), then the reply

Permission: options "allow" (allow_once) and "reject" (reject_once). Rejected -> the tool
call fails and the turn ends with "refusal"; an outcome of "cancelled" ends it with
"cancelled". A JSON-RPC error from fs/* ends the turn normally with "read failed: <code>
<message>" (or "write failed: ..."), from terminal/create with "terminal refused: <message>".
The agent asks for fs and terminal even when the client did not advertise them, so a host's
refusal paths get exercised too (a real agent would not).

Sessions persist (prompts and replies) as JSON files in a state directory, $ACP_TEST_AGENT_STATE
or <tmp>/pincer-acp-test-agent, so session/load works from a fresh agent process: it replays
the history as user_message_chunk / agent_message_chunk updates and then answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from acp import (
    PROTOCOL_VERSION,
    InitializeResponse,
    LoadSessionResponse,
    NewSessionResponse,
    PromptResponse,
    RequestError,
    plan_entry,
    run_agent,
    start_tool_call,
    text_block,
    tool_content,
    tool_diff_content,
    tool_terminal_ref,
    update_agent_message_text,
    update_agent_thought_text,
    update_plan,
    update_tool_call,
    update_user_message_text,
)
from acp.helpers import update_current_mode
from acp.schema import (
    AgentCapabilities,
    Cost,
    Implementation,
    PermissionOption,
    PromptCapabilities,
    SessionInfoUpdate,
    ToolCallLocation,
    ToolCallUpdate,
    UsageUpdate,
)

STATE_DIR = Path(os.environ.get("ACP_TEST_AGENT_STATE") or Path(tempfile.gettempdir()) / "pincer-acp-test-agent")
TICK_SECONDS = 0.2
MAX_TICKS = 300  # a "slow" turn nobody cancels still ends, after a minute


def log(line: str) -> None:
    print(f"test_agent[{os.getpid()}]: {line}", file=sys.stderr, flush=True)


class Session:
    def __init__(self, session_id: str, cwd: str, history: list[dict[str, str]] | None = None) -> None:
        self.id = session_id
        self.cwd = cwd
        self.history = history or []  # {"role": "user" | "agent", "text": ...}
        self.cancelled = asyncio.Event()
        self.prompts = 0
        self.tool_calls = 0
        self.messages = 0

    @property
    def path(self) -> Path:
        return STATE_DIR / f"{self.id}.json"

    def save(self) -> None:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"cwd": self.cwd, "history": self.history}))
        tmp.replace(self.path)

    @classmethod
    def restore(cls, session_id: str, cwd: str) -> Session | None:
        # Session ids are ours ("sess_" + hex); anything else is not a file name we made.
        if not session_id.startswith("sess_") or not session_id[5:].isalnum():
            return None
        try:
            saved = json.loads((STATE_DIR / f"{session_id}.json").read_text())
        except (OSError, ValueError):
            return None
        return cls(session_id, cwd, saved.get("history", []))


class Turn:
    """One prompt turn: sends updates for its session and collects the reply text."""

    def __init__(self, agent: TestAgent, session: Session) -> None:
        self.agent = agent
        self.session = session
        session.messages += 1
        self.message_id = f"msg_{session.messages}"
        self.reply: list[str] = []

    async def update(self, update: Any) -> None:
        await self.agent.conn.session_update(session_id=self.session.id, update=update)

    async def say(self, text: str) -> None:
        chunk = update_agent_message_text(text)
        chunk.message_id = self.message_id
        self.reply.append(text)
        await self.update(chunk)

    def new_call_id(self) -> str:
        self.session.tool_calls += 1
        return f"call_{self.session.tool_calls}"

    async def ask(self, call_id: str, title: str, kind: str) -> str:
        """session/request_permission; returns "allow", "reject" or "cancelled"."""
        response = await self.agent.conn.request_permission(
            session_id=self.session.id,
            tool_call=ToolCallUpdate(tool_call_id=call_id, title=title, kind=kind, status="pending"),
            options=[
                PermissionOption(option_id="allow", name="Allow once", kind="allow_once"),
                PermissionOption(option_id="reject", name="Reject", kind="reject_once"),
            ],
        )
        outcome = response.outcome
        if outcome.outcome == "cancelled":
            return "cancelled"
        return "allow" if outcome.option_id == "allow" else "reject"


def error_text(exc: RequestError) -> str:
    return f"{exc.code} {exc}"


class TestAgent:
    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}

    def on_connect(self, conn: Any) -> None:
        self.conn = conn

    # -- client -> agent -------------------------------------------------------------------

    async def initialize(self, protocol_version: int, client_capabilities: Any = None, client_info: Any = None, **kwargs: Any) -> InitializeResponse:
        name = client_info.name if client_info is not None else "an unnamed client"
        log(f"initialize from {name}, protocol version {protocol_version}")
        return InitializeResponse(
            protocol_version=PROTOCOL_VERSION,
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(embedded_context=True),
            ),
            agent_info=Implementation(name="pincer-test-agent", title="Pincer ACP test agent", version="0.1.0"),
        )

    async def new_session(self, cwd: str, mcp_servers: Any = None, **kwargs: Any) -> NewSessionResponse:
        session = Session(f"sess_{uuid.uuid4().hex[:12]}", cwd)
        self.sessions[session.id] = session
        session.save()
        log(f"session/new {session.id} in {cwd}")
        return NewSessionResponse(session_id=session.id)

    async def load_session(self, cwd: str, session_id: str, mcp_servers: Any = None, **kwargs: Any) -> LoadSessionResponse:
        session = self.sessions.get(session_id) or Session.restore(session_id, cwd)
        if session is None:
            log(f"session/load {session_id}: no such session")
            raise RequestError.resource_not_found(session_id)
        session.cwd = cwd
        self.sessions[session_id] = session
        log(f"session/load {session_id}: replaying {len(session.history)} messages")
        for entry in session.history:
            if entry["role"] == "user":
                await self.conn.session_update(session_id=session_id, update=update_user_message_text(entry["text"]))
            else:
                await self.conn.session_update(session_id=session_id, update=update_agent_message_text(entry["text"]))
        return LoadSessionResponse()

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        log(f"session/cancel {session_id}")
        session = self.sessions.get(session_id)
        if session is not None:
            session.cancelled.set()

    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> PromptResponse:
        session = self.sessions.get(session_id)
        if session is None:
            raise RequestError.resource_not_found(session_id)
        session.prompts += 1
        session.cancelled.clear()
        text = " ".join(block.text for block in prompt if block.type == "text").strip()
        attachments = [block for block in prompt if block.type in ("resource", "resource_link")]
        keyword = text.split(" ", 1)[0].lower() if text else ""
        log(f"prompt {session.prompts} in {session_id}: {text!r}" + (f" with {len(attachments)} attachment(s)" if attachments else ""))
        session.history.append({"role": "user", "text": text})
        session.save()

        turn = Turn(self, session)
        handler = {
            "plan": self.turn_plan, "read": self.turn_read, "write": self.turn_write,
            "readabs": self.turn_readabs, "terminal": self.turn_terminal, "slow": self.turn_slow,
            "crash": self.turn_crash, "garbage": self.turn_garbage, "usage": self.turn_usage,
            "pause": self.turn_pause,
        }.get(keyword)
        try:
            stop = await (handler(turn, text) if handler else self.turn_echo(turn, text, attachments))
        finally:
            if turn.reply:
                session.history.append({"role": "agent", "text": "".join(turn.reply)})
                session.save()
        log(f"prompt {session.prompts} in {session_id}: {stop}")
        return PromptResponse(stop_reason=stop)

    # -- turns -----------------------------------------------------------------------------

    async def turn_echo(self, turn: Turn, text: str, attachments: list[Any]) -> str:
        await turn.say("You said: ")
        await turn.say(text)
        for block in attachments:
            if block.type == "resource":
                body = getattr(block.resource, "text", None)
                size = f"{len(body)} characters" if body is not None else "binary"
                await turn.say(f"\nAttached {block.resource.uri} ({size})")
            else:
                await turn.say(f"\nLinked {block.uri}")
        return "end_turn"

    async def turn_plan(self, turn: Turn, text: str) -> str:
        await turn.update(update_plan([
            plan_entry("Understand the request", priority="high", status="completed"),
            plan_entry("Think it over", priority="medium", status="in_progress"),
            plan_entry("Answer", priority="low", status="pending"),
        ]))
        thought = update_agent_thought_text("Thinking about the plan...")
        await turn.update(thought)
        return await self.turn_echo(turn, text, [])

    async def turn_read(self, turn: Turn, text: str) -> str:
        parts = text.split(" ", 1)
        if len(parts) < 2 or not parts[1].strip():
            await turn.say("usage: read <relative-path>")
            return "end_turn"
        rel = parts[1].strip()
        path = os.path.join(turn.session.cwd, rel)
        call = turn.new_call_id()
        title = f"Read {rel}"
        await turn.update(start_tool_call(call, title, kind="read", status="pending",
                                          locations=[ToolCallLocation(path=path)], raw_input={"path": path}))
        decision = await turn.ask(call, title, "read")
        if decision != "allow":
            return await self.declined(turn, call, decision)
        await turn.update(update_tool_call(call, status="in_progress"))
        return await self.read_through_client(turn, call, path)

    async def turn_write(self, turn: Turn, text: str) -> str:
        parts = text.split(" ", 2)
        if len(parts) < 3:
            await turn.say("usage: write <relative-path> <text>")
            return "end_turn"
        rel, content = parts[1], parts[2]
        path = os.path.join(turn.session.cwd, rel)
        call = turn.new_call_id()
        title = f"Write {rel}"
        await turn.update(start_tool_call(call, title, kind="edit", status="pending",
                                          content=[tool_diff_content(path, content)],
                                          locations=[ToolCallLocation(path=path)], raw_input={"path": path, "content": content}))
        decision = await turn.ask(call, title, "edit")
        if decision != "allow":
            return await self.declined(turn, call, decision)
        await turn.update(update_tool_call(call, status="in_progress"))
        try:
            await self.conn.write_text_file(session_id=turn.session.id, path=path, content=content)
        except RequestError as exc:
            await turn.update(update_tool_call(call, status="failed", raw_output={"error": exc.to_error_obj()}))
            await turn.say(f"write failed: {error_text(exc)}")
            return "end_turn"
        await turn.update(update_tool_call(call, status="completed"))
        await turn.say(f"wrote {len(content)} characters to {rel}")
        return "end_turn"

    async def read_through_client(self, turn: Turn, call: str, path: str) -> str:
        """Reads `path` with fs/read_text_file and reports the result on tool call `call`."""
        try:
            response = await self.conn.read_text_file(session_id=turn.session.id, path=path)
        except RequestError as exc:
            await turn.update(update_tool_call(call, status="failed", raw_output={"error": exc.to_error_obj()}))
            await turn.say(f"read failed: {error_text(exc)}")
            return "end_turn"
        await turn.update(update_tool_call(call, status="completed", content=[tool_content(text_block(response.content))]))
        await turn.say(f"read: {response.content}")
        return "end_turn"

    async def declined(self, turn: Turn, call: str, decision: str) -> str:
        if decision == "cancelled":
            # The client cancelled the turn: the tool call never ran.
            await turn.update(update_tool_call(call, status="failed", raw_output={"reason": "cancelled"}))
            return "cancelled"
        await turn.update(update_tool_call(call, status="failed", raw_output={"reason": "permission rejected"}))
        return "refusal"

    async def turn_readabs(self, turn: Turn, text: str) -> str:
        parts = text.split(" ", 1)
        path = parts[1].strip() if len(parts) == 2 else ""
        call = turn.new_call_id()
        await turn.update(start_tool_call(call, f"Read {path}", kind="read", status="in_progress",
                                          locations=[ToolCallLocation(path=path)], raw_input={"path": path}))
        return await self.read_through_client(turn, call, path)

    async def turn_terminal(self, turn: Turn, text: str) -> str:
        words = [w for w in text.split(" ")[1:] if w]
        if not words:
            await turn.say("usage: terminal <command> [args...]")
            return "end_turn"
        sid = turn.session.id
        try:
            created = await self.conn.create_terminal(session_id=sid, command=words[0], args=words[1:],
                                                      cwd=turn.session.cwd, output_byte_limit=65536)
        except RequestError as exc:
            await turn.say(f"terminal refused: {exc}")
            return "end_turn"
        terminal = created.terminal_id
        call = turn.new_call_id()
        await turn.update(start_tool_call(call, " ".join(words), kind="execute", status="in_progress",
                                          content=[tool_terminal_ref(terminal)], raw_input={"command": words}))
        exited = await self.conn.wait_for_terminal_exit(session_id=sid, terminal_id=terminal)
        output = await self.conn.terminal_output(session_id=sid, terminal_id=terminal)
        await self.conn.release_terminal(session_id=sid, terminal_id=terminal)
        status = "completed" if exited.exit_code == 0 else "failed"
        await turn.update(update_tool_call(call, status=status,
                                           raw_output={"exitCode": exited.exit_code, "signal": exited.signal}))
        how = f"exit {exited.exit_code}" if exited.signal is None else f"signal {exited.signal}"
        truncated = " (truncated)" if output.truncated else ""
        await turn.say(f"terminal ({how}){truncated}: {output.output}")
        return "end_turn"

    async def turn_slow(self, turn: Turn, text: str) -> str:
        for n in range(MAX_TICKS):
            if turn.session.cancelled.is_set():
                return "cancelled"
            await turn.say(f"tick {n} ")
            try:
                await asyncio.wait_for(turn.session.cancelled.wait(), TICK_SECONDS)
            except asyncio.TimeoutError:
                pass
        return "cancelled" if turn.session.cancelled.is_set() else "end_turn"

    async def turn_pause(self, turn: Turn, text: str) -> str:
        # "pause <ms>": one chunk, the pause (cut short by session/cancel), then the echo.
        words = text.split()
        await turn.say("pausing ")
        try:
            await asyncio.wait_for(turn.session.cancelled.wait(), int(words[1]) / 1000 if len(words) > 1 else 1.0)
            return "cancelled"
        except asyncio.TimeoutError:
            return await self.turn_echo(turn, text, [])

    async def turn_crash(self, turn: Turn, text: str) -> str:
        await turn.say("about to crash")
        log("crashing on purpose (exit status 3)")
        os._exit(3)

    async def turn_garbage(self, turn: Turn, text: str) -> str:
        # The SDK has written (and drained) everything it was given once its awaits return, so
        # a raw write to fd 1 lands between two whole messages.
        os.write(1, b"this line is not JSON {\"jsonrpc\": oops\n")
        return await self.turn_echo(turn, text, [])

    async def turn_usage(self, turn: Turn, text: str) -> str:
        await turn.update(UsageUpdate(session_update="usage_update", used=1234, size=200000,
                                      cost=Cost(amount=0.0123, currency="USD")))
        await turn.update(update_current_mode("fast"))
        await turn.update(SessionInfoUpdate(session_update="session_info_update", title="Usage check",
                                            updated_at="2026-01-01T00:00:00Z"))
        # The SDK validates session_update()'s update against the known variants, so an update
        # kind from the future has to go through the connection's raw JSON-RPC layer.
        await self.conn._conn.send_notification("session/update", {
            "sessionId": turn.session.id,
            "update": {"sessionUpdate": "future_thing", "detail": {"answer": 42}, "note": "a variant no client knows"},
        })
        return await self.turn_echo(turn, text, [])


async def main() -> None:
    await run_agent(TestAgent())


if __name__ == "__main__":
    asyncio.run(main())
