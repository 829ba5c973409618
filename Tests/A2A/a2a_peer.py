#!/usr/bin/env python3
"""A real A2A 1.0 peer for the a2a-bridge sample plugin, built on the official
a2a-sdk 1.3.0 client (plus raw httpx for what the SDK hides: status codes,
headers, requests the SDK would never send).

Run it with the interpreter of build/venv (made by scripts/python-peers):

    build/venv/bin/python Tests/A2A/a2a_peer.py --base http://127.0.0.1:PORT \
        --friend-token alice-secret [--checks all|CHECK[,CHECK...]]

Each check prints one line, `ok <check>: <detail>` or `FAIL <check>: <why>`;
the exit status is 1 if any check failed (2 for bad usage).

Who asks: every SDK check except the stranger half of friend-vs-stranger runs
as the friend (Authorization: Bearer <token>), so that only friend-vs-stranger
and ratelimit spend the strangers' small budget. `all` runs ratelimit last,
since it leaves this client's address over its limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import uuid

import httpx

from google.protobuf.json_format import ParseDict, ParseError

from a2a.client import (
    A2ACardResolver,
    A2AClientError,
    ClientConfig,
    create_client,
)
from a2a.types import (
    AgentCard,
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    Task,
    TaskNotCancelableError,
    TaskNotFoundError,
    TaskState,
)

PLUGIN = "a2a-bridge"
RPC_PATH = f"/plugins/{PLUGIN}/a2a"
LIST_TOOL = f"{PLUGIN}.list_free_slots"
RATE_LIMIT_CODE = -32029
RATE_LIMIT_MAX_REQUESTS = 40  # the ratelimit check gives up after this many requests

CHECKS = [
    "card",
    "send",
    "stream",
    "gettask",
    "cancel",
    "version",
    "method",
    "badtoken",
    "friend-vs-stranger",
    "ratelimit",  # last: it burns the stranger budget
]


class CheckFailed(Exception):
    pass


def expect(condition: bool, why: str) -> None:
    if not condition:
        raise CheckFailed(why)


def state_name(state: int) -> str:
    return TaskState.Name(state)


def user_message(text: str, context_id: str | None = None) -> Message:
    message = Message(role=Role.ROLE_USER, message_id=str(uuid.uuid4()), parts=[Part(text=text)])
    if context_id:
        message.context_id = context_id
    return message


def artifact_text(task: Task) -> str:
    return "".join(part.text for artifact in task.artifacts for part in artifact.parts)


def agent_text(task: Task) -> str:
    """Everything the agent said in a task: artifacts, status message, agent history."""
    texts = [artifact_text(task)]
    texts += [part.text for part in task.status.message.parts]
    texts += [part.text for m in task.history if m.role == Role.ROLE_AGENT for part in m.parts]
    return "\n".join(t for t in texts if t)


def short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def http_status_of(error: BaseException) -> int | None:
    """The HTTP status behind an SDK error: the JSON-RPC transport raises
    A2AClientError('HTTP Error <code>: ...') from an httpx.HTTPStatusError."""
    cause = error.__cause__
    if isinstance(cause, httpx.HTTPStatusError):
        return cause.response.status_code
    return None


class Peer:
    def __init__(self, base: str, public_url: str, friend_token: str, timeout: float):
        self.base = base.rstrip("/")
        self.public_url = public_url.rstrip("/")
        self.rpc_url = self.public_url + RPC_PATH
        self.friend_token = friend_token
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._card: AgentCard | None = None

    # --- clients ---------------------------------------------------------

    def http(self, token: str | None = None, version_header: bool = True) -> httpx.AsyncClient:
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if version_header:
            headers["A2A-Version"] = "1.0"
        return httpx.AsyncClient(headers=headers, timeout=self.timeout)

    async def card(self) -> AgentCard:
        """The card, resolved once through the SDK (as the friend: strangers' budget is spared)."""
        if self._card is None:
            async with self.http(self.friend_token) as http:
                self._card = await A2ACardResolver(http, self.base).get_agent_card()
        return self._card

    async def send(self, http: httpx.AsyncClient, text: str, *, streaming: bool,
                   context_id: str | None = None) -> list[StreamResponse]:
        """SendMessage (or SendStreamingMessage) through the SDK client; the events it yields."""
        config = ClientConfig(httpx_client=http, streaming=streaming, supported_protocol_bindings=["JSONRPC"])
        async with await create_client(await self.card(), client_config=config) as client:
            request = SendMessageRequest(message=user_message(text, context_id))
            return [event async for event in client.send_message(request)]

    async def send_for_task(self, http: httpx.AsyncClient, text: str, context_id: str | None = None) -> Task:
        events = await self.send(http, text, streaming=False, context_id=context_id)
        expect(len(events) == 1, f"non-streaming send yielded {len(events)} events")
        kind = events[0].WhichOneof("payload")
        expect(kind == "task", f"SendMessage answered a {kind}, not a task")
        return events[0].task

    async def sdk_client(self, http: httpx.AsyncClient):
        config = ClientConfig(httpx_client=http, streaming=False, supported_protocol_bindings=["JSONRPC"])
        return await create_client(await self.card(), client_config=config)

    async def raw_rpc(self, http: httpx.AsyncClient, method: str, params: dict) -> httpx.Response:
        body = {"jsonrpc": "2.0", "id": str(uuid.uuid4()), "method": method, "params": params}
        return await http.post(self.rpc_url, json=body)

    # --- checks ----------------------------------------------------------

    async def check_card(self) -> str:
        # Fetched anonymously: the card is public.
        async with self.http(None, version_header=False) as http:
            card = await A2ACardResolver(http, self.base).get_agent_card()
        self._card = card
        expect(len(card.supported_interfaces) > 0, "no supportedInterfaces")
        first = card.supported_interfaces[0]
        expect(first.url == self.rpc_url, f"supportedInterfaces[0].url is {first.url!r}, want {self.rpc_url!r}")
        expect(first.protocol_binding == "JSONRPC", f"protocolBinding is {first.protocol_binding!r}")
        expect(first.protocol_version == "1.0", f"protocolVersion is {first.protocol_version!r}")
        expect(card.capabilities.streaming, "capabilities.streaming is not true")
        expect("friendToken" in card.security_schemes, f"securitySchemes lacks friendToken: {list(card.security_schemes)}")
        scheme = card.security_schemes["friendToken"]
        expect(scheme.HasField("http_auth_security_scheme"), "friendToken is not an httpAuthSecurityScheme")
        expect(scheme.http_auth_security_scheme.scheme.lower() == "bearer",
               f"friendToken scheme is {scheme.http_auth_security_scheme.scheme!r}, want bearer")
        expect(len(card.security_requirements) == 0,
               "the card has a global securityRequirements (strangers must be served too)")
        skills = {skill.id: skill for skill in card.skills}
        expect("chat" in skills, f"no chat skill (skills: {sorted(skills)})")
        expect("calendar" in skills, f"no calendar skill (skills: {sorted(skills)})")
        expect(len(skills["chat"].security_requirements) == 0, "the chat skill has securityRequirements")
        calendar = skills["calendar"].security_requirements
        expect(any("friendToken" in requirement.schemes for requirement in calendar),
               "the calendar skill's securityRequirements do not name friendToken "
               '(ProtoJSON: [{"schemes": {"friendToken": {"list": []}}}])')
        return (f"{card.name!r}: JSONRPC 1.0 at {first.url}, streaming, bearer friendToken, "
                f"skills {sorted(skills)} (calendar for friends)")

    async def check_send(self) -> str:
        async with self.http(self.friend_token) as http:
            task = await self.send_for_task(http, "hello")
            expect(task.id != "", "the task has no id")
            expect(task.context_id != "", "the task has no contextId")
            state = state_name(task.status.state)
            expect(task.status.state == TaskState.TASK_STATE_COMPLETED, f"task {task.id} is {state}")
            reply = artifact_text(task)
            expect("You said: hello" in reply, f"artifact text {short(reply)!r} lacks 'You said: hello'")
            async with await self.sdk_client(http) as client:
                again = await client.get_task(GetTaskRequest(id=task.id))
            expect(again.id == task.id, f"GetTask returned task {again.id!r}")
            expect(again.status.state == task.status.state,
                   f"GetTask says {state_name(again.status.state)}, SendMessage said {state}")
            # The raw GetTask result must be ProtoJSON for Task: the SDK's parser ignores unknown fields, this one does not.
            raw = await self.raw_rpc(http, "GetTask", {"id": task.id})
            expect(raw.status_code == 200, f"raw GetTask answered HTTP {raw.status_code}")
            try:
                ParseDict(raw.json()["result"], Task())
            except (ParseError, KeyError, ValueError) as error:
                raise CheckFailed(f"raw GetTask result is not a strict ProtoJSON Task: {error}") from error
            # A message in the same contextId continues the session: a new task in the same context.
            follow = await self.send_for_task(http, "hello again", context_id=task.context_id)
            expect(follow.context_id == task.context_id,
                   f"a message in context {task.context_id} got a task in context {follow.context_id}")
            expect(follow.id != task.id, "the follow-up message reused the first task's id")
            expect(follow.status.state == TaskState.TASK_STATE_COMPLETED,
                   f"the follow-up task is {state_name(follow.status.state)}")
            expect("You said: hello again" in artifact_text(follow),
                   f"follow-up reply {short(artifact_text(follow))!r} lacks 'You said: hello again'")
        return f"task {task.id} {state}, reply {short(reply, 60)!r}; GetTask agrees; follow-up in the same context completed"

    async def check_stream(self) -> str:
        async with self.http(self.friend_token) as http:
            events = await self.send(http, "hello", streaming=True)
            expect(len(events) > 0, "the stream yielded no events")
            labels = []
            for event in events:
                kind = event.WhichOneof("payload")
                if kind == "task":
                    labels.append(f"task({state_name(event.task.status.state)})")
                elif kind == "status_update":
                    labels.append(f"status_update({state_name(event.status_update.status.state)})")
                else:
                    labels.append(kind)
            sequence = " ".join(labels)
            # Consecutive artifact chunks count as one step.
            steps = [label for i, label in enumerate(labels) if i == 0 or label != labels[i - 1] or label != "artifact_update"]
            want = ["task(TASK_STATE_SUBMITTED)", "status_update(TASK_STATE_WORKING)", "artifact_update",
                    "status_update(TASK_STATE_COMPLETED)"]
            expect(steps == want, f"events were [{sequence}], want [{' '.join(want)}]")
            task_id = events[0].task.id
            for event in events[1:]:
                update = event.status_update if event.HasField("status_update") else event.artifact_update
                expect(update.task_id == task_id, f"an event names task {update.task_id!r}, the stream's is {task_id!r}")
            reply = "".join(part.text for e in events if e.HasField("artifact_update") for part in e.artifact_update.artifact.parts)
            expect("You said: hello" in reply, f"streamed artifact text {short(reply)!r} lacks 'You said: hello'")
            async with await self.sdk_client(http) as client:
                task = await client.get_task(GetTaskRequest(id=task_id))
            expect(task.status.state == TaskState.TASK_STATE_COMPLETED,
                   f"GetTask after the stream says {state_name(task.status.state)}")
        return f"[{sequence}], reply {short(reply, 60)!r}; GetTask says COMPLETED"

    async def check_gettask(self) -> str:
        unknown = f"no-such-task-{uuid.uuid4()}"
        async with self.http(self.friend_token) as http:
            async with await self.sdk_client(http) as client:
                try:
                    task = await client.get_task(GetTaskRequest(id=unknown))
                except TaskNotFoundError as error:
                    return f"unknown id raised TaskNotFoundError (-32001): {error.message}"
                except A2AClientError as error:
                    raise CheckFailed(f"unknown id raised {error!r}, want TaskNotFoundError (-32001)") from error
        raise CheckFailed(f"GetTask of an unknown id returned a task in {state_name(task.status.state)}")

    async def check_cancel(self) -> str:
        async with self.http(self.friend_token) as http:
            task = await self.send_for_task(http, "hello")
            expect(task.status.state == TaskState.TASK_STATE_COMPLETED, f"task is {state_name(task.status.state)}")
            async with await self.sdk_client(http) as client:
                try:
                    after = await client.cancel_task(CancelTaskRequest(id=task.id))
                except TaskNotCancelableError as error:
                    return f"CancelTask on completed task {task.id} raised TaskNotCancelableError (-32002): {error.message}"
                except A2AClientError as error:
                    raise CheckFailed(f"CancelTask raised {error!r}, want TaskNotCancelableError (-32002)") from error
        raise CheckFailed(f"CancelTask on a completed task returned a task in {state_name(after.status.state)}")

    async def check_version(self) -> str:
        async with self.http(self.friend_token, version_header=False) as http:
            response = await self.raw_rpc(http, "SendMessage", {"message": {
                "messageId": str(uuid.uuid4()), "role": "ROLE_USER", "parts": [{"text": "hello"}]}})
        error = rpc_error(response)
        expect(error is not None, f"no JSON-RPC error without A2A-Version (HTTP {response.status_code}: {short(response.text)})")
        expect(error.get("code") == -32009, f"error code {error.get('code')}, want -32009: {error.get('message')!r}")
        return f"no A2A-Version header: HTTP {response.status_code}, error -32009 {error.get('message')!r}"

    async def check_method(self) -> str:
        async with self.http(self.friend_token) as http:
            response = await self.raw_rpc(http, "NoSuchMethod", {})
        error = rpc_error(response)
        expect(error is not None, f"no JSON-RPC error for an unknown method (HTTP {response.status_code}: {short(response.text)})")
        expect(error.get("code") == -32601, f"error code {error.get('code')}, want -32601")
        return f"unknown method: HTTP {response.status_code}, error -32601 {error.get('message')!r}"

    async def check_badtoken(self) -> str:
        async with self.http("wrong-token") as http:
            response = await self.raw_rpc(http, "SendMessage", {"message": {
                "messageId": str(uuid.uuid4()), "role": "ROLE_USER", "parts": [{"text": "hello"}]}})
            expect(response.status_code == 401, f"a wrong bearer token got HTTP {response.status_code}, want 401")
            error = rpc_error(response)
            expect(error is not None, f"the 401 body is not a JSON-RPC error: {short(response.text)}")
            # Through the SDK the same refusal is an A2AClientError whose cause is httpx's HTTPStatusError.
            try:
                await self.send_for_task(http, "hello")
            except A2AClientError as sdk_error:
                expect(http_status_of(sdk_error) == 401, f"the SDK raised {sdk_error!r}, not from an HTTP 401")
            else:
                raise CheckFailed("the SDK client with a wrong token was served")
        return f"wrong token: HTTP 401, JSON-RPC error {error.get('code')} {error.get('message')!r}; SDK raises A2AClientError (HTTP 401)"

    async def check_friend_vs_stranger(self) -> str:
        text = f"what is free? @{LIST_TOOL}"
        async with self.http(self.friend_token) as http:
            friend = await self.send_for_task(http, text)
        async with self.http(None) as http:
            stranger = await self.send_for_task(http, text)
        friend_says, stranger_says = agent_text(friend), agent_text(stranger)
        expect(friend.status.state == TaskState.TASK_STATE_COMPLETED, f"the friend's task is {state_name(friend.status.state)}")
        found = re.search(re.escape(LIST_TOOL) + r" → (.+?)\.?(?:;|\n|$)", friend_says)
        expect(found is not None and found.group(1).strip() != "",
               f"the friend's reply has no '{LIST_TOOL} → <slots>': {short(friend_says, 300)!r}")
        slots = found.group(1).strip()
        expect(f"{LIST_TOOL} →" not in stranger_says and slots not in stranger_says,
               f"the stranger got the slot list: {short(stranger_says, 300)!r}")
        expect(LIST_TOOL in stranger_says and re.search(r"not allowed|denied|not permitted|forbidden|unknown tool|not available",
                                                           stranger_says, re.IGNORECASE) is not None,
               f"the stranger's reply does not say {LIST_TOOL} was refused: {short(stranger_says, 300)!r}")
        at = stranger_says.find(f"{LIST_TOOL} failed")
        refusal = stranger_says[at if at >= 0 else stranger_says.find(LIST_TOOL):]
        return f"friend got {short(slots, 80)!r}; stranger {state_name(stranger.status.state)}, {short(refusal, 80)!r}"

    async def check_ratelimit(self) -> str:
        async with self.http(None) as http:
            for attempt in range(1, RATE_LIMIT_MAX_REQUESTS + 1):
                response = await self.raw_rpc(http, "SendMessage", {"message": {
                    "messageId": str(uuid.uuid4()), "role": "ROLE_USER", "parts": [{"text": f"burst {attempt}"}]}})
                if response.status_code == 429:
                    break
                expect(response.status_code == 200,
                       f"request {attempt} answered HTTP {response.status_code}: {short(response.text)}")
            else:
                raise CheckFailed(f"no HTTP 429 after {RATE_LIMIT_MAX_REQUESTS} stranger requests")
            retry_after = response.headers.get("Retry-After")
            expect(retry_after is not None, "the 429 has no Retry-After header")
            expect(retry_after.strip().isdigit() and int(retry_after) > 0,
                   f"Retry-After is {retry_after!r}, want a positive integer of seconds")
            error = rpc_error(response)
            expect(error is not None, f"the 429 body is not a JSON-RPC error: {short(response.text)}")
            expect(error.get("code") == RATE_LIMIT_CODE, f"the 429 error code is {error.get('code')}, want {RATE_LIMIT_CODE}")
            expect("rate limit" in str(error.get("message", "")).lower(),
                   f"the 429 error message {error.get('message')!r} does not mention 'rate limit'")
            # Through the SDK the same refusal is an A2AClientError whose cause is httpx's HTTPStatusError.
            try:
                await self.send_for_task(http, "one more")
            except A2AClientError as sdk_error:
                expect(http_status_of(sdk_error) == 429, f"the SDK raised {sdk_error!r}, not from an HTTP 429")
            else:
                raise CheckFailed("the SDK client was served past the rate limit")
        return (f"request {attempt} answered 429, Retry-After {retry_after}, error {error.get('code')} "
                f"{error.get('message')!r}; SDK raises A2AClientError (HTTP 429)")


def rpc_error(response: httpx.Response) -> dict | None:
    """The JSON-RPC error object of a response, or None if it carries none."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("jsonrpc") != "2.0" or not isinstance(body.get("error"), dict):
        return None
    error = body["error"]
    return error if isinstance(error.get("code"), int) else None


async def run(peer: Peer, checks: list[str], check_timeout: float) -> int:
    failed = 0
    for name in checks:
        method = getattr(peer, "check_" + name.replace("-", "_"))
        try:
            detail = await asyncio.wait_for(method(), timeout=check_timeout)
            print(f"ok {name}: {detail}", flush=True)
        except CheckFailed as error:
            failed += 1
            print(f"FAIL {name}: {error}", flush=True)
        except asyncio.TimeoutError:
            failed += 1
            print(f"FAIL {name}: no result within {check_timeout:g} s", flush=True)
        except Exception as error:  # noqa: BLE001 — any other error fails this check, not the run
            failed += 1
            cause = f" (from {error.__cause__!r})" if error.__cause__ else ""
            print(f"FAIL {name}: {type(error).__name__}: {short(str(error), 300)}{cause}", flush=True)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description="A2A 1.0 peer (official a2a-sdk 1.3.0 client) that checks the a2a-bridge plugin served by `pincer serve`.",
        epilog="checks: " + ", ".join(CHECKS) + ". `all` runs them in that order (ratelimit last: it burns the stranger budget).")
    parser.add_argument("--base", required=True, help="the server's base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--friend-token", required=True, help="a friend's bearer token from the plugin's config")
    parser.add_argument("--checks", default="all", help="all, or a comma-separated list of checks")
    parser.add_argument("--public-url", default=None,
                        help="the publicUrl the card advertises (default: --base); the interface URL must be <publicUrl>" + RPC_PATH)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds for one HTTP request (default 30)")
    parser.add_argument("--check-timeout", type=float, default=120.0, help="seconds for one whole check (default 120)")
    args = parser.parse_args()

    if args.checks == "all":
        checks = list(CHECKS)
    else:
        checks = [c.strip() for c in args.checks.split(",") if c.strip()]
        unknown = [c for c in checks if c not in CHECKS]
        if unknown or not checks:
            parser.error(f"unknown check(s) {', '.join(unknown) or '(none given)'}; known: all, {', '.join(CHECKS)}")
    peer = Peer(args.base, args.public_url or args.base, args.friend_token, args.timeout)
    return asyncio.run(run(peer, checks, args.check_timeout))


if __name__ == "__main__":
    sys.exit(main())
