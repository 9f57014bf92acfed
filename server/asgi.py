"""ASGI entry for process managers: ``uvicorn server.asgi:app --workers N``."""

from server.app import create_app

app = create_app()
