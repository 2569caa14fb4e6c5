"""The operator's web page: static assets shipped in the package and a Markdown endpoint."""

from miot_harness.web.router import web_router

__all__ = ["web_router"]
