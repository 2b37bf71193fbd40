"""Answer an offer without waiting for its mDNS candidates to resolve.

A browser that has not been given camera access hides its addresses behind mDNS names
(`1f2e….local`). aiortc resolves them inside `setRemoteDescription` and waits for each
(aioice: a multicast query, up to 1 s when nobody answers, e.g. across subnets), so the
answer waited too. `answer` takes those candidates out of the offer, answers at once, and
hands them to the connection afterwards, in the background. Meanwhile the browser's own
checks reach our (address) candidates and the connection comes up from its side (aioice
learns the browser's address as a peer-reflexive candidate).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from aiortc import RTCIceCandidate, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

log = logging.getLogger(__name__)

CANDIDATE, END = "a=candidate:", "a=end-of-candidates"
_running: set[asyncio.Task[None]] = set()


@dataclass
class Deferred:
    """An offer without its mDNS candidates, and those candidates (with their m-lines)."""

    sdp: str
    candidates: list[RTCIceCandidate] = field(default_factory=list)
    ended: bool = False  # the offer said end-of-candidates: say it again after them


def _is_mdns(line: str) -> bool:
    bits = line.split()
    return len(bits) > 4 and bits[4].lower().endswith(".local")


def defer_mdns(sdp: str) -> Deferred:
    """Split the mDNS candidates off `sdp` (an offer without any comes back as it was)."""
    lines = sdp.splitlines()
    if not any(line.startswith(CANDIDATE) and _is_mdns(line) for line in lines):
        return Deferred(sdp)
    out = Deferred("")
    kept: list[str] = []
    sections: list[list[str]] = [[]]  # the session part, then each m= section
    for line in lines:
        if line.startswith("m="):
            sections.append([])
        sections[-1].append(line)
    for index, section in enumerate(sections[1:]):
        mid = next((line[len("a=mid:") :] for line in section if line.startswith("a=mid:")), None)
        for line in section:
            if line.startswith(CANDIDATE) and _is_mdns(line):
                out.candidates.append(_candidate(line[len(CANDIDATE) :], index, mid))
            elif line == END:
                out.ended = True
            else:
                kept.append(line)
    out.sdp = "\r\n".join(sections[0] + kept) + "\r\n"
    return out


def _candidate(text: str, index: int, mid: str | None) -> RTCIceCandidate:
    candidate = candidate_from_sdp(text)
    candidate.sdpMLineIndex, candidate.sdpMid = index, mid
    return candidate


async def answer(pc: RTCPeerConnection, offer: str) -> asyncio.Task[None] | None:
    """Apply `offer` and make the answer (the local description) without waiting for mDNS
    lookups; the task that adds the deferred candidates, if there are any."""
    deferred = defer_mdns(offer)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=deferred.sdp, type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    if not deferred.candidates:
        return None
    task = asyncio.ensure_future(_add(pc, deferred))
    _running.add(task)  # the loop keeps only a weak reference to a task
    task.add_done_callback(_running.discard)
    return task


async def _add(pc: RTCPeerConnection, deferred: Deferred) -> None:
    try:
        await asyncio.gather(*(pc.addIceCandidate(c) for c in deferred.candidates))
        if deferred.ended:
            await pc.addIceCandidate(None)
    except Exception as exc:  # the connection closed meanwhile, or a candidate was odd
        log.info("media: adding mDNS candidates later: %r", exc)
