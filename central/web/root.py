"""The root blueprint of the central web pages, ``web``: sign-in, sign-out, the language
toggle and the home page (central/web/login.py) hang on it directly, and every page
blueprint nests under it (central/web/__init__.py), so endpoints read ``web.cases.inbox``."""
from __future__ import annotations

from flask import Blueprint

__all__ = ["bp"]

bp = Blueprint("web", __name__, url_prefix="")
