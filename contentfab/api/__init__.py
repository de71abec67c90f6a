"""The review HTTP API and the web gallery (:func:`create_api`), and the request guard every
response passes through (:mod:`contentfab.api.guard`)."""

from contentfab.api.app import create_api

__all__ = ["create_api"]
