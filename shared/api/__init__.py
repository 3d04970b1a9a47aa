"""The HTTP contract (docs/api.md) as a platform-neutral handler.

- ``contract``: every route, declared once; ``routes``: their handlers; ``service``: the pipeline;
- ``adapter``: the entry point of the cloud adapters: ``function_app.py`` and ``lambda/`` call
  :func:`~shared.api.adapter.serve` with an :class:`HttpRequest` and translate the
  :class:`HttpResponse` back, and their timers call :func:`~shared.api.adapter.sweep`; the local
  server calls the service's ``handle`` directly;
- ``http``, ``bodies``, ``openapi``, ``context``, ``reclaim``: the pieces of the pipeline.
"""

from .http import HttpRequest, HttpResponse
from .service import VendingService, get_service, reset_service

__all__ = ["HttpRequest", "HttpResponse", "VendingService", "get_service", "reset_service"]
