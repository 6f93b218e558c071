"""`modelbridge sandbox`: serve the offline gateway until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from bot.sandbox.auth import INVALID_KEY_PREFIX
from bot.sandbox.families import ABSENT_STYLES, FAMILIES, parse_families
from bot.sandbox.faults import FAULT_HEADER, FAULTS, TOKENS_HEADER, TPS_HEADER, parse_fault
from bot.sandbox.server import SandboxServer

DESCRIPTION = """\
Serve an offline stand-in of the AI gateway (new-api with the Midjourney-proxy relay) over HTTP:
/v1/models, /v1/chat/completions (SSE), /v1/completions, /v1/images/generations, /v1/embeddings,
/v1/audio/{transcriptions,translations,speech} and /mj/* (imagine, action, modal, blend, describe,
shorten, insight-face/swap, fetch, list-by-condition, image-seed, /mj/image/{id}; also under the
/mj-fast, /mj-relax and /mj-turbo prefixes). Any bearer key (sk-...) is accepted; on /mj the key may
come in the mj-api-secret header; a key sees only its own tasks. Keys starting with
sk-%(invalid)s get 401 无效的令牌. Unknown non-/v1 paths (e.g. /mj/task/queue, /mj/task/{id}/cancel)
answer HTTP 200 text/html, as new-api does.

Chat answers are deterministic: "Echo: <last user message>" + " [images: N]"
+ " [context: M messages]", then filler words when a length is asked for. Midjourney jobs start
after about 2 s and finish about 30 s later; --speed divides every delay (--speed 200 finishes
a job in well under a second). As new-api does, the gateway refreshes unfinished jobs from
upstream only every --refresh scenario seconds (15 at --speed 1, where a fetch sees coarse jumps
and may go from "" or SUBMITTED straight to SUCCESS; 0, every step, at other speeds).
"""

EPILOG_HEAD = """\
faults (header %(fault)s: <name>[=<arg>], prompt marker [[fault:<name>]], or --fault <name>):
"""

EPILOG_TAIL = """
pacing (per request):
  header %(tokens)s: <n>  or marker [[tokens:<n>]]   answer length in tokens (filler words)
  header %(tps)s: <n>     or marker [[tps:<n>]]      tokens per second while streaming

Markers are removed from the text the sandbox echoes or draws. Other headers: Authorization: Bearer
sk-<key>, mj-api-secret (on /mj). Responses carry X-Oneapi-Request-Id.
"""


def sandbox_epilog() -> str:
    """The help text listing every fault, header and marker."""
    lines = [EPILOG_HEAD % {"fault": FAULT_HEADER}]
    lines += [f"  {name:<11} {text}\n" for name, text in FAULTS.items()]
    lines.append(EPILOG_TAIL % {"tokens": TOKENS_HEADER, "tps": TPS_HEADER})
    return "".join(lines)


def _fault(value: str) -> str:
    try:
        parse_fault(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return value


def _speed(value: str) -> float:
    speed = float(value)
    if speed <= 0:
        raise argparse.ArgumentTypeError("speed must be positive")
    return speed


def _refresh(value: str) -> float:
    refresh = float(value)
    if refresh < 0:
        raise argparse.ArgumentTypeError("refresh must not be negative")
    return refresh


def _families(value: str) -> frozenset[str]:
    try:
        return parse_families(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `modelbridge sandbox`; the description and epilog document every knob."""
    parser.description = DESCRIPTION % {"invalid": INVALID_KEY_PREFIX}
    parser.epilog = sandbox_epilog()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8700, help="port to bind (default 8700)")
    parser.add_argument("--speed", type=_speed, default=1.0, metavar="X",
                        help="divide every simulated delay by X (default 1.0)")
    parser.add_argument("--refresh", type=_refresh, default=None, metavar="S",
                        help="scenario seconds between the gateway's refreshes of unfinished "
                        "MJ jobs; 0 = every fetch sees the latest (default 15 at --speed 1, "
                        "else 0)")
    parser.add_argument("--families", type=_families, default=None, metavar="LIST",
                        help="serve only these route families, comma-separated, of "
                        f"{','.join(FAMILIES)} (default: all); the others answer HTTP 404 as "
                        "a foreign gateway does (see --absent)")
    parser.add_argument("--absent", choices=ABSENT_STYLES, default="json",
                        help="how routes of families not served answer: json = "
                        "{\"detail\": \"Not Found\"} as LiteLLM and vLLM (FastAPI) do, html = "
                        "nginx's 404 page (default json)")
    parser.add_argument("--fault", type=_fault, action="append", default=[], metavar="NAME",
                        help="inject fault NAME[=ARG] into every request (repeatable)")


async def _serve(args: argparse.Namespace) -> None:
    server = SandboxServer(host=args.host, port=args.port, speed=args.speed,
                           faults=args.fault, access_log=True, refresh_s=args.refresh,
                           families=args.families, absent=args.absent)
    await server.start()
    faults = ", ".join(args.fault) or "none"
    families = ",".join(f for f in FAMILIES if f in server.families)
    print(f"sandbox gateway on {server.url} (speed {args.speed}, MJ refresh every "
          f"{server.refresh_s:g} s, families: {families}, faults: {faults}); Ctrl-C stops",
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # SIGTERM (process managers) stops as cleanly as Ctrl-C does.
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
        print("sandbox gateway stopped", flush=True)


def run_sandbox(args: argparse.Namespace) -> int:
    """Serve until interrupted; returns the process exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0
