"""The conference MCU: one composite encoded once for every participant, audio mixed
minus-one, the room recorded. `EmbeddedConferences` implements media.conference.Conferences."""

from media.mcu.service import EmbeddedConferences

__all__ = ["EmbeddedConferences"]
