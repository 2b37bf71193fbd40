"""Annex-B parsing on H.264 that PyAV's libx264 encodes in the test itself."""

from __future__ import annotations

from fractions import Fraction

import av
import pytest
from PIL import Image, ImageDraw

from media.annexb import (
    START_CODE,
    AccessUnit,
    NalType,
    ParameterSets,
    access_units,
    is_first_slice,
    is_keyframe,
    join_nal_units,
    nal_type,
    profile_level_id,
    split_nal_units,
)

KEYINT = 6


def encode(frames: int = 14, *, slices: int = 1) -> list[tuple[bytes, bool]]:
    """(Annex-B bytes, keyframe flag) of each packet libx264 writes for a moving bar."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = 160, 96, "yuv420p"
    codec.time_base = Fraction(1, 12)
    codec.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "profile": "baseline",
        "level": "3.1",
        "threads": "1",
        "x264-params": f"keyint={KEYINT}:min-keyint={KEYINT}:scenecut=0:slices={slices}"
        ":sliced-threads=0",
    }
    packets: list[tuple[bytes, bool]] = []
    for i in range(frames):
        image = Image.new("RGB", (160, 96), (20, 40, 60))
        ImageDraw.Draw(image).rectangle([i * 9, 10, i * 9 + 30, 80], fill=(240, 200, 40))
        frame = av.VideoFrame.from_image(image)
        frame.pts = i
        packets += [(bytes(p), p.is_keyframe) for p in codec.encode(frame)]
    packets += [(bytes(p), p.is_keyframe) for p in codec.encode(None)]
    return packets


@pytest.fixture(scope="module")
def packets() -> list[tuple[bytes, bool]]:
    return encode()


def test_the_nal_units_of_a_stream_are_the_nal_units_of_its_packets(
    packets: list[tuple[bytes, bool]],
) -> None:
    stream = b"".join(data for data, _ in packets)
    per_packet = [unit for data, _ in packets for unit in split_nal_units(data)]
    assert split_nal_units(stream) == per_packet
    assert len(per_packet) >= len(packets)
    assert all(unit and unit[0] & 0x80 == 0 for unit in per_packet)  # forbidden_zero_bit


def test_three_and_four_byte_start_codes_and_trailing_zeros_give_the_same_units(
    packets: list[tuple[bytes, bool]],
) -> None:
    units = split_nal_units(b"".join(data for data, _ in packets))
    short = b"".join(b"\x00\x00\x01" + unit for unit in units)
    mixed = b"".join((START_CODE[n % 2 :]) + unit for n, unit in enumerate(units))
    padded = b"".join(START_CODE + unit + b"\x00\x00" for unit in units)  # trailing_zero_8bits
    assert split_nal_units(short) == units
    assert split_nal_units(mixed) == units
    assert split_nal_units(padded) == units
    assert split_nal_units(b"\xff\x17junk" + short) == units  # bytes before a start code
    assert split_nal_units(join_nal_units(units)) == units
    assert split_nal_units(b"no start code") == []


def test_nal_types_follow_the_encoder_sps_pps_idr_then_p_slices(
    packets: list[tuple[bytes, bool]],
) -> None:
    first = [nal_type(u) for u in split_nal_units(packets[0][0])]
    assert first[:2] == [NalType.SPS, NalType.PPS]
    assert first[-1] == NalType.IDR
    second = [nal_type(u) for u in split_nal_units(packets[1][0])]
    assert second == [NalType.SLICE]
    with pytest.raises(ValueError, match="empty"):
        nal_type(b"")


def test_keyframes_are_found_where_the_encoder_put_them(
    packets: list[tuple[bytes, bool]],
) -> None:
    found = [is_keyframe(split_nal_units(data)) for data, _ in packets]
    assert found == [flag for _, flag in packets]
    assert [n for n, key in enumerate(found) if key] == list(range(0, len(packets), KEYINT))
    # x264 repeats SPS and PPS in front of every IDR (repeat-headers), never elsewhere.
    for data, key in packets:
        kinds = {nal_type(u) for u in split_nal_units(data)}
        assert ({NalType.SPS, NalType.PPS} <= kinds) == key


def test_access_unit_boundaries_match_the_encoders_packets(
    packets: list[tuple[bytes, bool]],
) -> None:
    stream = b"".join(data for data, _ in packets)
    assert list(access_units(split_nal_units(stream))) == [
        split_nal_units(data) for data, _ in packets
    ]


def test_a_picture_of_several_slices_is_one_access_unit() -> None:
    sliced = encode(8, slices=3)
    per_packet = [split_nal_units(data) for data, _ in sliced]
    slices = [[u for u in au if nal_type(u) in (1, 5)] for au in per_packet]
    assert all(len(s) == 3 for s in slices)
    assert all(is_first_slice(s[0]) and not any(map(is_first_slice, s[1:])) for s in slices)
    stream = b"".join(data for data, _ in sliced)
    assert list(access_units(split_nal_units(stream))) == per_packet


def test_an_access_unit_delimiter_opens_the_next_access_unit(
    packets: list[tuple[bytes, bool]],
) -> None:
    aud = bytes([NalType.AUD, 0xF0])
    units = [aud, *split_nal_units(packets[0][0]), aud, *split_nal_units(packets[1][0])]
    grouped = list(access_units(units))
    assert len(grouped) == 2
    assert grouped[1][0] == aud


def test_profile_level_id_says_constrained_baseline_3_1(
    packets: list[tuple[bytes, bool]],
) -> None:
    sps = split_nal_units(packets[0][0])[0]
    profile = profile_level_id(sps)
    assert profile[:2] == "42"  # baseline
    assert int(profile[2:4], 16) & 0x40  # constraint_set1: constrained baseline
    assert profile[4:] == "1f"  # level 3.1
    with pytest.raises(ValueError, match="not an SPS"):
        profile_level_id(split_nal_units(packets[1][0])[0])


def test_parameter_sets_go_in_front_of_an_idr_that_lacks_them(
    packets: list[tuple[bytes, bool]],
) -> None:
    first, params = split_nal_units(packets[0][0]), ParameterSets()
    complete, key = params.complete(packets[0][0])
    assert key and complete is packets[0][0]  # nothing missing: the same bytes
    bare = join_nal_units(u for u in split_nal_units(packets[KEYINT][0]) if nal_type(u) == 5)
    completed, key = params.complete(bare)
    assert key
    assert split_nal_units(completed) == [first[0], first[1], *split_nal_units(bare)]
    p_frame = packets[1][0]
    assert params.complete(p_frame) == (p_frame, False)
    # Without having seen parameter sets there is nothing to add.
    assert ParameterSets().complete(bare) == (bare, True)


def test_an_access_unit_keeps_its_bytes_when_restamped() -> None:
    unit = AccessUnit(b"\x00\x00\x00\x01\x65\x88", 3000, True)
    moved = unit.at(9000)
    assert (moved.data, moved.timestamp, moved.keyframe) == (unit.data, 9000, True)
