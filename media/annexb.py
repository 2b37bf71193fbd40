"""H.264 Annex-B byte streams: NAL units, access units, keyframes and parameter sets.

The gateway never decodes video; this is all it needs to know about H.264 to pass it through:
where NAL units start (a 3- or 4-byte start code), what type each is (ITU-T H.264 table 7-1),
where one picture ends and the next begins (section 7.4.1.2.3), and which access units a
decoder can start from (IDR, with its SPS and PPS in front).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

START_CODE = b"\x00\x00\x00\x01"
_SHORT_START = b"\x00\x00\x01"


class NalType(enum.IntEnum):
    SLICE = 1  # a coded slice of a non-IDR picture (P or B)
    SLICE_A = 2
    SLICE_B = 3
    SLICE_C = 4
    IDR = 5  # a coded slice of an IDR picture: a decoder can start here
    SEI = 6
    SPS = 7
    PPS = 8
    AUD = 9  # access unit delimiter
    END_OF_SEQUENCE = 10
    END_OF_STREAM = 11
    FILLER = 12


VCL_TYPES = frozenset({1, 2, 3, 4, 5})
# NAL units that, ahead of the first slice of a picture, start a new access unit (7.4.1.2.3).
_OPENS_ACCESS_UNIT = frozenset({6, 7, 8, 9, 14, 15, 16, 17, 18})


def nal_type(nal: bytes) -> int:
    """The type of a NAL unit (without its start code): the low five bits of its header."""
    if not nal:
        raise ValueError("an empty NAL unit has no type")
    return nal[0] & 0x1F


def split_nal_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B byte stream, without start codes.

    Start codes are 00 00 01 or 00 00 00 01; zero bytes in front of a start code
    (trailing_zero_8bits, or the first byte of a 4-byte start code) belong to no NAL unit,
    which can end in 00 only through emulation prevention (00 00 03), never in a bare 00.
    Bytes before the first start code are not a NAL unit and are dropped.
    """
    units: list[bytes] = []
    start = data.find(_SHORT_START)
    while start != -1:
        begin = start + 3
        following = data.find(_SHORT_START, begin)
        end = len(data) if following == -1 else following
        while end > begin and data[end - 1] == 0:
            end -= 1
        if end > begin:
            units.append(data[begin:end])
        start = following
    return units


def join_nal_units(units: Iterable[bytes]) -> bytes:
    """An Annex-B byte stream of the NAL units, each behind a 4-byte start code."""
    return b"".join(START_CODE + unit for unit in units)


def is_first_slice(nal: bytes) -> bool:
    """True for a VCL NAL unit that starts a picture: first_mb_in_slice, the first ue(v) of
    the slice header, is 0, which exp-Golomb writes as a single 1 bit."""
    return nal_type(nal) in VCL_TYPES and len(nal) > 1 and bool(nal[1] & 0x80)


def access_units(units: Iterable[bytes]) -> Iterator[list[bytes]]:
    """Group NAL units in decoding order into access units (one picture each).

    A new access unit starts at an AUD, SEI, SPS or PPS (and types 14-18) after a picture's
    slices, or at the first slice of a new picture. Pictures coded as several slices stay one
    access unit because only their first slice has first_mb_in_slice = 0.
    """
    current: list[bytes] = []
    has_slice = False
    for unit in units:
        kind = nal_type(unit)
        opens = (kind in _OPENS_ACCESS_UNIT and has_slice) or (is_first_slice(unit) and has_slice)
        if opens:
            yield current
            current, has_slice = [], False
        current.append(unit)
        has_slice = has_slice or kind in VCL_TYPES
    if current:
        yield current


def is_keyframe(units: Iterable[bytes]) -> bool:
    """True when the access unit holds an IDR slice."""
    return any(nal_type(unit) == NalType.IDR for unit in units)


def profile_level_id(sps: bytes) -> str:
    """The SDP profile-level-id of an SPS NAL unit: profile_idc, constraint flags and
    level_idc as six hex digits (42e01f is constrained baseline, level 3.1)."""
    if len(sps) < 4 or nal_type(sps) != NalType.SPS:
        raise ValueError(f"not an SPS NAL unit: {sps[:8].hex()}")
    return sps[1:4].hex()


@dataclass(frozen=True, slots=True)
class AccessUnit:
    """One coded picture in Annex-B form, stamped on a 90 kHz clock (the RTP video clock)."""

    data: bytes
    timestamp: int
    keyframe: bool

    def at(self, timestamp: int) -> AccessUnit:
        return AccessUnit(self.data, timestamp, self.keyframe)


class ParameterSets:
    """The latest SPS and PPS of a stream, put in front of IDR access units that lack them.

    Cameras send their parameter sets in band before every IDR, in the RTSP SDP only, or (MP4)
    in the container's header; a viewer that starts at an IDR needs them in front of it.
    """

    def __init__(self) -> None:
        self.sps: bytes | None = None
        self.pps: bytes | None = None

    def learn(self, units: Sequence[bytes]) -> None:
        for unit in units:
            kind = nal_type(unit)
            if kind == NalType.SPS:
                self.sps = unit
            elif kind == NalType.PPS:
                self.pps = unit

    def complete(self, data: bytes) -> tuple[bytes, bool]:
        """The access unit with SPS and PPS in front when it is an IDR that lacks them, and
        whether it is a keyframe. Bytes are returned untouched when nothing is missing."""
        units = split_nal_units(data)
        self.learn(units)
        if not is_keyframe(units):
            return data, False
        kinds = {nal_type(unit) for unit in units}
        missing = [
            ps
            for ps, kind in ((self.sps, NalType.SPS), (self.pps, NalType.PPS))
            if kind not in kinds and ps is not None
        ]
        if not missing:
            return data, True
        return join_nal_units([*missing, *units]), True
