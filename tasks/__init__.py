"""Celery side of contentfab: the app factory, routing, thin tasks and campaign bookkeeping.

Task bodies load rows, call a pure function from ``workers/`` and persist; no model logic here.
"""
