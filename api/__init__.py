"""The HTTP adapter: FastAPI routes (REST under ``/v1`` and the ``/v1/stream`` WebSocket) over ``awsome_core``.

Like ``ui/`` for Streamlit, this package only reads requests, calls the library's use cases
(:mod:`awsome_core.services`, :mod:`awsome_core.vision`) and writes responses; it never commits.
Start it with ``awsome api`` (:mod:`api.server`); the app factory is :func:`api.app.create_app`.
"""
