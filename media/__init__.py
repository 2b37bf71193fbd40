"""The media side of CommandHall; for now the camera gateway.

Camera video reaches the wall as the camera's own H.264, never re-encoded:

    sources  (RTSP / .ts / .h264 / .mp4 remuxed / demo scene)  →  access units (annexb)
    upstream (one per camera: opened with its first viewer, closed after its last,
              offline → reconnect with capped back-off, last IDR kept)
    tracks   (one aiortc track per viewer; recv() returns av.Packet, so aiortc packetizes
              and never encodes)
    gateway  (offer → answer, H.264 only; status per camera)
    signalling (the /media Socket.IO namespace), embedded (the gateway on a media loop
              thread inside the web process), loop, config, clock, demo.
"""
