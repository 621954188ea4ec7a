"""Helpers for services built on ASGI frameworks (FastAPI, Starlette): inbound budgets, disconnect cancellation."""

from ._asgi import budget_from_headers, cancel_on_disconnect

__all__ = ["budget_from_headers", "cancel_on_disconnect"]
