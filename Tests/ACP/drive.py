#!/usr/bin/env python3
"""A raw ACP v1 client for looking at agents: subprocess + newline-delimited JSON by hand, no SDK.

    python3 Tests/ACP/drive.py [options] PROMPT...

It starts the agent (--agent, default: build/venv/bin/python Tests/ACP/test_agent.py), sends
initialize and session/new (cwd = a fresh temporary workspace, seeded with --file NAME=TEXT, by
default notes.txt; --link NAME=TARGET adds a symlink), then each PROMPT (where $WS stands for the workspace) as one session/prompt, and prints every message both ways:
`>>> ` client -> agent, `<<< ` agent -> client (the raw line), `[stderr] ` the agent's stderr,
`## ` the driver's own notes. The workspace's path is printed as $WS, and paths in this
repository relative to it.

While a prompt runs it answers the agent's requests as a host would:
  session/request_permission  --permission allow (default) | reject | cancel (cancel first sends
                              session/cancel, then answers {"outcome":"cancelled"})
  fs/read_text_file, fs/write_text_file
                              inside the workspace only (after resolving symlinks and ".."); any
                              other path gets error -32002 "outside the workspace"
  terminal/*                  runs the command for real (no shell); --no-terminal advertises
                              terminal: false and answers terminal/* with -32601
A prompt whose first word is "slow" (or every prompt, with --cancel-after S) gets session/cancel
after 0.6 s (or S). --attach NAME adds the workspace file NAME to each prompt, as an embedded
resource if the agent advertises embeddedContext, else as a resource_link. --load then stops the
agent, starts a fresh one and sends session/load for the same session (if the agent advertises
loadSession; --load-id ID loads another id). Exit status: 0 when every prompt got its response, 1 otherwise (the agent died,
or a timeout).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_AGENT = f"{REPO / 'build/venv/bin/python'} {REPO / 'Tests/ACP/test_agent.py'}"
PROTOCOL_VERSION = 1


class Printer:
    def __init__(self, workspace: str) -> None:
        self.workspace = workspace
        self.lock = threading.Lock()

    def __call__(self, prefix: str, text: str) -> None:
        text = text.replace(self.workspace, "$WS").replace(f"{REPO}/", "")
        with self.lock:
            print(prefix + text, flush=True)


class Terminal:
    def __init__(self, proc: subprocess.Popen, limit: int | None) -> None:
        self.proc = proc
        self.limit = limit
        self.output = b""
        self.truncated = False
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):
            with self.lock:
                self.output += chunk
                if self.limit is not None and len(self.output) > self.limit:
                    cut = len(self.output) - self.limit
                    while cut < len(self.output) and (self.output[cut] & 0xC0) == 0x80:
                        cut += 1  # never start inside a UTF-8 character
                    self.output = self.output[cut:]
                    self.truncated = True

    def exit_status(self) -> dict | None:
        code = self.proc.poll()
        if code is None:
            return None
        self.reader.join(timeout=2)
        if code < 0:
            import signal
            return {"exitCode": None, "signal": signal.Signals(-code).name}
        return {"exitCode": code, "signal": None}


class Driver:
    def __init__(self, args: argparse.Namespace, workspace: str) -> None:
        self.args = args
        self.workspace = workspace
        self.real_workspace = os.path.realpath(workspace)
        self.show = Printer(workspace)
        self.terminals: dict[str, Terminal] = {}
        self.next_terminal = 0
        self.proc: subprocess.Popen | None = None
        self.inbox: queue.Queue = queue.Queue()
        self.write_lock = threading.Lock()
        self.next_id = 0
        self.session_id: str | None = None
        self.agent_capabilities: dict = {}
        self.cancel_sent = False

    # -- the agent process -----------------------------------------------------------------

    def start(self) -> None:
        command = shlex.split(self.args.agent)
        self.show("## ", f"starting {' '.join(command)}")
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.inbox = queue.Queue()
        threading.Thread(target=self._pump_stdout, args=(self.proc, self.inbox), daemon=True).start()
        threading.Thread(target=self._pump_stderr, args=(self.proc,), daemon=True).start()

    def _pump_stdout(self, proc: subprocess.Popen, inbox: queue.Queue) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:  # one message per line; no size limit here
            inbox.put(raw.rstrip(b"\n").decode("utf-8", "replace"))
        inbox.put(None)  # EOF

    def _pump_stderr(self, proc: subprocess.Popen) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            self.show("[stderr] ", raw.rstrip(b"\n").decode("utf-8", "replace"))

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.show("## ", "agent still running 5 s after its stdin closed; killing it")
            self.proc.kill()
            code = self.proc.wait()
        time.sleep(0.05)  # let the stderr pump print its last lines
        self.show("## ", f"agent exited with status {code}")
        return code

    def send(self, message: dict) -> None:
        line = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
        self.show(">>> ", line)
        assert self.proc is not None and self.proc.stdin is not None
        with self.write_lock:
            try:
                self.proc.stdin.write(line.encode() + b"\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                self.show("## ", "write failed: the agent's stdin is closed")

    def request(self, method: str, params: dict, cancel_after: float | None = None, timeout: float = 15.0) -> dict | None:
        """Sends a request and serves the agent until its response arrives; None if it never does."""
        rid = self.next_id
        self.next_id += 1
        self.cancel_sent = False
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        started = time.monotonic()
        while True:
            now = time.monotonic()
            if cancel_after is not None and not self.cancel_sent and now - started >= cancel_after:
                self.send_cancel()
            if now - started > timeout:
                self.show("## ", f"no response to {method} (id {rid}) after {timeout} s")
                return None
            wait = 0.05 if cancel_after is not None and not self.cancel_sent else 0.5
            try:
                line = self.inbox.get(timeout=wait)
            except queue.Empty:
                continue
            if line is None:
                code = self.proc.wait() if self.proc else None
                time.sleep(0.05)
                self.show("## ", f"agent closed its stdout (exit status {code}) while {method} (id {rid}) was pending")
                return None
            self.show("<<< ", line)
            try:
                message = json.loads(line)
            except ValueError:
                self.show("## ", "not JSON: ignored")
                continue
            if not isinstance(message, dict):
                self.show("## ", "not a JSON object: ignored")
                continue
            if "method" in message:
                self.serve(message)
            elif message.get("id") == rid:
                return message
            else:
                self.show("## ", f"response to an id we are not waiting for ({message.get('id')!r}): ignored")

    def send_cancel(self) -> None:
        self.cancel_sent = True
        self.send({"jsonrpc": "2.0", "method": "session/cancel", "params": {"sessionId": self.session_id}})

    # -- agent -> client -------------------------------------------------------------------

    def serve(self, message: dict) -> None:
        method = message["method"]
        params = message.get("params") or {}
        if "id" not in message:
            return  # session/update and other notifications: printed already
        handler = {
            "session/request_permission": self.permission,
            "fs/read_text_file": self.read_text_file,
            "fs/write_text_file": self.write_text_file,
        }.get(method)
        if method.startswith("terminal/"):
            handler = None if self.args.no_terminal else getattr(self, "terminal_" + method.split("/", 1)[1], None)
        if handler is None:
            self.reply(message["id"], error={"code": -32601, "message": "Method not found", "data": {"method": method}})
            return
        try:
            result = handler(params)
        except ClientError as exc:
            self.reply(message["id"], error=exc.obj)
            return
        if result is not Deferred:
            self.reply(message["id"], result=result)
        else:
            threading.Thread(target=self._deferred, args=(message["id"], method, params), daemon=True).start()

    def reply(self, rid, result=None, error=None) -> None:
        message = {"jsonrpc": "2.0", "id": rid}
        if error is not None:
            message["error"] = error
        else:
            message["result"] = result
        self.send(message)

    def permission(self, params: dict) -> dict:
        mode = self.args.permission
        if mode == "cancel" or self.cancel_sent:
            if not self.cancel_sent:
                self.send_cancel()
            return {"outcome": {"outcome": "cancelled"}}
        wanted = "allow_once" if mode == "allow" else "reject_once"
        options = params.get("options") or []
        chosen = next((o for o in options if o.get("kind") == wanted), None)
        if chosen is None:  # fall back on any option of the same sense
            chosen = next((o for o in options if str(o.get("kind", "")).startswith(mode)), None)
        if chosen is None:
            return {"outcome": {"outcome": "cancelled"}}
        return {"outcome": {"outcome": "selected", "optionId": chosen["optionId"]}}

    def confined(self, path) -> str:
        if not isinstance(path, str) or not os.path.isabs(path):
            raise ClientError(-32602, "path must be absolute", {"path": path})
        real = os.path.realpath(path)
        if real != self.real_workspace and not real.startswith(self.real_workspace + os.sep):
            raise ClientError(-32002, "outside the workspace", {"path": path})
        return real

    def read_text_file(self, params: dict) -> dict:
        path = self.confined(params.get("path"))
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ClientError(-32002, "file not found", {"path": params.get("path")})
        except (OSError, UnicodeDecodeError) as exc:
            raise ClientError(-32603, f"cannot read: {exc.__class__.__name__}", {"path": params.get("path")})
        line, limit = params.get("line"), params.get("limit")
        if line is not None or limit is not None:
            lines = text.splitlines(keepends=True)
            start = max((line or 1) - 1, 0)
            text = "".join(lines[start:start + limit] if limit is not None else lines[start:])
        return {"content": text}

    def write_text_file(self, params: dict) -> None:
        path = self.confined(params.get("path"))
        content = params.get("content")
        if not isinstance(content, str):
            raise ClientError(-32602, "content must be a string")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(content, encoding="utf-8")
        return None

    def terminal(self, params: dict) -> Terminal:
        terminal = self.terminals.get(params.get("terminalId"))
        if terminal is None:
            raise ClientError(-32002, "no such terminal", {"terminalId": params.get("terminalId")})
        return terminal

    def terminal_create(self, params: dict) -> dict:
        command = params.get("command")
        args = params.get("args") or []
        cwd = self.confined(params["cwd"]) if params.get("cwd") else self.workspace
        env = dict(os.environ)
        for var in params.get("env") or []:
            env[var["name"]] = var["value"]
        try:
            proc = subprocess.Popen([command, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except OSError as exc:
            raise ClientError(-32603, f"cannot start {command}: {exc.strerror}")
        self.next_terminal += 1
        tid = f"term_{self.next_terminal}"
        self.terminals[tid] = Terminal(proc, params.get("outputByteLimit"))
        return {"terminalId": tid}

    def terminal_output(self, params: dict) -> dict:
        terminal = self.terminal(params)
        status = terminal.exit_status()
        with terminal.lock:
            result = {"output": terminal.output.decode("utf-8", "replace"), "truncated": terminal.truncated}
        if status is not None:
            result["exitStatus"] = status
        return result

    def terminal_wait_for_exit(self, params: dict):
        self.terminal(params)
        return Deferred  # answered from a thread once the command exits; the loop keeps serving

    def _deferred(self, rid, method: str, params: dict) -> None:
        terminal = self.terminals[params["terminalId"]]
        terminal.proc.wait()
        self.reply(rid, result=terminal.exit_status())

    def terminal_kill(self, params: dict) -> None:
        terminal = self.terminal(params)
        if terminal.proc.poll() is None:
            terminal.proc.kill()
        return None

    def terminal_release(self, params: dict) -> None:
        terminal = self.terminal(params)
        if terminal.proc.poll() is None:
            terminal.proc.kill()
            terminal.proc.wait()
        del self.terminals[params["terminalId"]]
        return None

    # -- the conversation ------------------------------------------------------------------

    def initialize(self) -> bool:
        self.show("## ", "initialize")
        response = self.request("initialize", {
            "protocolVersion": PROTOCOL_VERSION,
            "clientCapabilities": {"fs": {"readTextFile": True, "writeTextFile": True}, "terminal": not self.args.no_terminal},
            "clientInfo": {"name": "drive.py", "title": "Pincer ACP driver", "version": "0.1.0"},
        })
        if response is None or "result" not in response:
            return False
        result = response["result"] or {}
        if result.get("protocolVersion") != PROTOCOL_VERSION:
            self.show("## ", f"agent answered protocol version {result.get('protocolVersion')!r}; disconnecting")
            return False
        self.agent_capabilities = result.get("agentCapabilities") or {}
        return True

    def prompt_blocks(self, text: str) -> list[dict]:
        blocks = [{"type": "text", "text": text}]
        for name in self.args.attach:
            path = os.path.join(self.workspace, name)
            if (self.agent_capabilities.get("promptCapabilities") or {}).get("embeddedContext"):
                blocks.append({"type": "resource", "resource": {"uri": Path(path).as_uri(), "mimeType": "text/plain",
                                                                "text": Path(path).read_text()}})
            else:
                blocks.append({"type": "resource_link", "uri": Path(path).as_uri(), "name": name})
        return blocks

    def run(self) -> int:
        ok = True
        self.start()
        if not self.initialize():
            self.stop()
            return 1
        self.show("## ", "session/new")
        response = self.request("session/new", {"cwd": self.workspace, "mcpServers": []})
        if response is None or "result" not in response:
            self.stop()
            return 1
        self.session_id = response["result"]["sessionId"]
        for text in self.args.prompts:
            text = text.replace("$WS", self.workspace)
            cancel_after = self.args.cancel_after
            if cancel_after is None and text.split(" ", 1)[0].lower() == "slow":
                cancel_after = 0.6
            note = f" (session/cancel after {cancel_after} s)" if cancel_after is not None else ""
            self.show("## ", f"session/prompt {text!r}{note}")
            response = self.request("session/prompt", {"sessionId": self.session_id, "prompt": self.prompt_blocks(text)},
                                    cancel_after=cancel_after)
            if response is None:
                ok = False
                break
            if "result" in response:
                self.show("## ", f"stopReason: {(response['result'] or {}).get('stopReason')}")
        code = self.stop()
        if ok and self.args.load:
            ok = self.load()
        for path in sorted(Path(self.workspace).rglob("*")):
            name = path.relative_to(self.workspace)
            if path.is_symlink():
                self.show("## ", f"workspace: {name} -> {os.readlink(path)}")
            elif path.is_file():
                self.show("## ", f"workspace: {name} = {path.read_text(errors='replace')!r}")
        return 0 if ok and code == 0 else 1

    def load(self) -> bool:
        if not self.agent_capabilities.get("loadSession"):
            self.show("## ", "the agent does not advertise loadSession: no session/load")
            return True
        self.show("## ", "a fresh agent process, to load the session")
        self.next_id = 0
        self.start()
        if not self.initialize():
            self.stop()
            return False
        session_id = self.args.load_id or self.session_id
        self.show("## ", f"session/load {session_id}")
        response = self.request("session/load", {"sessionId": session_id, "cwd": self.workspace, "mcpServers": []})
        code = self.stop()
        return response is not None and code == 0


class ClientError(Exception):
    def __init__(self, code: int, message: str, data=None) -> None:
        super().__init__(message)
        self.obj = {"code": code, "message": message}
        if data is not None:
            self.obj["data"] = data


Deferred = object()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prompts", nargs="*", metavar="PROMPT")
    parser.add_argument("--agent", default=DEFAULT_AGENT, help="the agent's command line (split like a shell would)")
    parser.add_argument("--permission", choices=["allow", "reject", "cancel"], default="allow")
    parser.add_argument("--no-terminal", action="store_true")
    parser.add_argument("--cancel-after", type=float, metavar="S")
    parser.add_argument("--file", action="append", default=[], metavar="NAME=TEXT", help="seed the workspace")
    parser.add_argument("--link", action="append", default=[], metavar="NAME=TARGET", help="a symlink in the workspace")
    parser.add_argument("--attach", action="append", default=[], metavar="NAME")
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--load-id", metavar="ID", help="with --load: the session id to load instead of this run's")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="acp-ws-") as workspace:
        seeds = args.file or ["notes.txt=hello from the workspace\n"]
        for seed in seeds:
            name, _, text = seed.partition("=")
            Path(workspace, name).write_text(text.replace("\\n", "\n"))
        for link in args.link:
            name, _, target = link.partition("=")
            os.symlink(target, os.path.join(workspace, name))
        return Driver(args, workspace).run()


if __name__ == "__main__":
    sys.exit(main())
