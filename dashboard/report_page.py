"""The citizen's phone page (/report): filled in by the report page work."""

from __future__ import annotations

from flask import Blueprint

report_page = Blueprint("report_page", __name__)
