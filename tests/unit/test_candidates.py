"""An offer's mDNS candidates split off, to be added after the answer."""

from __future__ import annotations

from media.candidates import defer_mdns

HOST = "a=candidate:1 1 udp 2122194687 192.0.2.2 50000 typ host generation 0"
MDNS_A = "a=candidate:2 1 udp 2122262783 4f1c-aa.local 50001 typ host generation 0"
MDNS_V = "a=candidate:3 1 udp 2122262783 9d0e-bb.local 50002 typ host generation 0"
OFFER = (
    "\r\n".join(
        [
            "v=0",
            "o=- 1 2 IN IP4 127.0.0.1",
            "s=-",
            "a=group:BUNDLE 0 1",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111",
            HOST,
            MDNS_A,
            "a=end-of-candidates",
            "a=mid:0",
            "m=video 9 UDP/TLS/RTP/SAVPF 96",
            MDNS_V,
            "a=mid:1",
        ]
    )
    + "\r\n"
)


def test_mdns_candidates_come_off_with_their_m_lines_and_the_rest_stays_in_order() -> None:
    deferred = defer_mdns(OFFER)
    assert [(c.ip, c.port, c.sdpMid, c.sdpMLineIndex) for c in deferred.candidates] == [
        ("4f1c-aa.local", 50001, "0", 0),
        ("9d0e-bb.local", 50002, "1", 1),
    ]
    assert deferred.ended  # said again once they are in
    assert deferred.sdp.splitlines() == [
        line for line in OFFER.splitlines() if line not in (MDNS_A, MDNS_V, "a=end-of-candidates")
    ]


def test_an_offer_without_mdns_candidates_is_left_as_it_is() -> None:
    plain = OFFER.replace(MDNS_A + "\r\n", "").replace(MDNS_V + "\r\n", "")
    deferred = defer_mdns(plain)
    assert deferred.sdp == plain and not deferred.candidates and not deferred.ended
