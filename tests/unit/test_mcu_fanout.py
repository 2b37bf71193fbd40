"""A participant's view of the composite: its sender starts at the newest IDR."""

from __future__ import annotations

import asyncio

from media.annexb import AccessUnit
from media.mcu.encoder import FanoutTrack


def unit(n: int, keyframe: bool = False) -> AccessUnit:
    return AccessUnit(bytes([n]), n * 6000, keyframe)


def test_the_sender_starts_at_the_newest_idr_queued_before_the_connection_was_up() -> None:
    async def scenario() -> list[bytes]:
        starts: list[str] = []
        track = FanoutTrack(lambda: None, lambda: starts.append("now"))
        for n, keyframe in ((1, True), (2, False), (3, True), (4, False)):  # during ICE, DTLS
            track.push(unit(n, keyframe))
        out = [bytes(await track.recv()), bytes(await track.recv())]  # the sender started
        assert starts == []  # an IDR was there: nothing to ask for
        assert track.dropped == 2
        return out

    assert asyncio.run(scenario()) == [bytes([3]), bytes([4])]


def test_with_nothing_queued_the_room_is_asked_for_an_idr_at_once() -> None:
    async def scenario() -> list[bytes]:
        starts: list[str] = []
        track = FanoutTrack(lambda: None, lambda: starts.append("now"))
        first = asyncio.ensure_future(track.recv())  # the sender asks: the connection is up
        await asyncio.sleep(0)
        assert starts == ["now"] and not first.done()
        track.push(unit(4))  # a P-picture made before that request took effect: no use
        track.push(unit(5, keyframe=True))
        track.push(unit(6))
        return [bytes(await first), bytes(await track.recv())]

    assert asyncio.run(scenario()) == [bytes([5]), bytes([6])]


def test_a_sender_that_started_is_not_cut_back_again() -> None:
    async def scenario() -> list[bytes]:
        starts: list[str] = []
        track = FanoutTrack(lambda: None, lambda: starts.append("now"))
        first = asyncio.ensure_future(track.recv())
        await asyncio.sleep(0)
        track.push(unit(1, keyframe=True))
        track.push(unit(2))
        track.push(unit(3))
        out = [bytes(await first), bytes(await track.recv()), bytes(await track.recv())]
        assert starts == ["now"]
        return out

    assert asyncio.run(scenario()) == [bytes([1]), bytes([2]), bytes([3])]
