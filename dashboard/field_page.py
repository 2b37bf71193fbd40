"""The grid worker's phone page (/field): filled in by the field page work."""

from __future__ import annotations

from flask import Blueprint

field_page = Blueprint("field_page", __name__)
