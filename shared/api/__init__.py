"""The HTTP contract (API.md) as a platform-neutral handler.

Adapters (Azure Functions, Lambda, the local server) build an :class:`HttpRequest`, call
``get_service().handle(request)`` and translate the :class:`HttpResponse` back.
"""
from .http import HttpRequest, HttpResponse
from .service import VendingService, get_service, reset_service

__all__ = ["HttpRequest", "HttpResponse", "VendingService", "get_service", "reset_service"]
