"""YAML campaign files read with bounded work and without a traceback for any input.

PyYAML's safe loader is safe from code execution but not from two other things a hostile or
broken file can do:

* **Alias bombs.** An anchor reused by aliases inside another anchor grows exponentially:
  a 603-byte file can stand for billions of nodes, and anything that walks the data (the
  duplicate-key check, pydantic) walks every one. :func:`compose` counts the nodes the
  document stands for with aliases expanded (each distinct node is counted once, so the count
  itself is linear in the file) and refuses a document whose aliases add more than
  :data:`MAX_ALIAS_NODES` nodes, or whose alias refers to the node that contains it.
* **Scalar constructors that raise plain Python errors** for explicit tags and impossible
  values (``!!int abc``, ``!!float x``, ``!!timestamp x``, ``2023-02-30``, an integer of more
  than 4,300 digits). :func:`construct` turns those into :class:`YamlValueError` naming the
  key path and line of the offending value.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["MAX_ALIAS_NODES", "AliasBombError", "YamlValueError", "compose", "construct"]

MAX_ALIAS_NODES = 10_000
"""Nodes aliases may add to a document: plenty to reuse a palette or a brand kit, far below
what makes the checks slow (a million nodes take seconds)."""

_KINDS = {
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:bool": "true/false",
    "tag:yaml.org,2002:binary": "base64 data",
}


class AliasBombError(ValueError):
    """The document's aliases stand for too many nodes, or for themselves."""

    def __init__(self, reason: str, line: int | None) -> None:
        super().__init__(reason)
        self.line = line


class YamlValueError(ValueError):
    """A scalar that its tag cannot read, with where it is."""

    def __init__(self, reason: str, loc: tuple[str, ...], line: int) -> None:
        super().__init__(reason)
        self.loc, self.line = loc, line


class _Loader(yaml.SafeLoader):
    failed: yaml.Node | None = None

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError, OverflowError, KeyError):
            if self.failed is None:  # the innermost node: the one that raised
                self.failed = node
            raise


def compose(text: str) -> tuple[yaml.Node | None, _Loader]:
    """The document's node tree, checked for alias bombs (the loader is for :func:`construct`;
    dispose of it afterwards). YAML errors propagate as ``yaml.YAMLError``."""
    loader = _Loader(text)
    node = loader.get_single_node()
    if node is not None:
        _check_expansion(node)
    return node, loader


def construct(loader: _Loader, node: yaml.Node) -> Any:
    """Plain data for ``node``; :class:`YamlValueError` for a value its tag cannot read."""
    try:
        return loader.construct_document(node)
    except (ValueError, TypeError, AttributeError, OverflowError, KeyError) as exc:
        failed = loader.failed or node
        kind = _KINDS.get(failed.tag, failed.tag)
        shown = str(failed.value)[:40] if isinstance(failed, yaml.ScalarNode) else failed.tag
        why = _why(exc)
        reason = f"cannot read {shown!r} as {kind}" + (f" ({why})" if why else "")
        raise YamlValueError(reason, _path_to(node, failed), failed.start_mark.line + 1) from None


def _why(exc: Exception) -> str:
    text = str(exc)
    if "out of range" in text:  # datetime: "day is out of range for month"
        return text
    if "digits" in text:  # int(): "Exceeds the limit (4300 digits) for integer string conversion"
        return "too many digits"
    return ""


def _check_expansion(root: yaml.Node) -> None:
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    distinct = 0

    def size(node: yaml.Node) -> int:
        nonlocal distinct
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise AliasBombError(
                "an alias refers to the node that contains it; aliases must not be recursive",
                node.start_mark.line + 1,
            )
        open_nodes.add(key)
        distinct += 1
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        open_nodes.discard(key)
        sizes[key] = total
        return total

    expanded = size(root)
    if expanded - distinct > MAX_ALIAS_NODES:
        raise AliasBombError(
            f"aliases (*name) expand this document to {expanded:,} values; at most "
            f"{MAX_ALIAS_NODES:,} more than the file writes out are allowed. Write the values "
            "out instead of repeating anchors (&name) inside anchors",
            None,
        )


def _path_to(root: yaml.Node, target: yaml.Node) -> tuple[str, ...]:
    """Key path from ``root`` to ``target`` (each node is visited once)."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[str, ...]]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if node is target:
            return loc
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack += [(item, (*loc, str(i))) for i, item in enumerate(node.value)]
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else "(key)"
                stack += [(key, (*loc, "(key)")), (value, (*loc, name))]
    return ()
