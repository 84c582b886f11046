"""Near misses: "`sgd` not found; did you mean `sgd_step`?" (contract)."""
from __future__ import annotations

import difflib


def suggest(name: str, names) -> list[str]:
    """Names that look like `name`: `sgd_step` for `sgd`, `Forward` for `forward`."""
    names = [n for n in names if n != name]
    lowered = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
    prefixed = [n for n in names if n.lower().startswith(name.lower()) or name.lower().startswith(n.lower()) and len(n) > 2]
    return list(dict.fromkeys(prefixed + [lowered[c] for c in close]))[:3]


def did_you_mean(name: str, names) -> str:
    found = suggest(name, names)
    return f"; did you mean {' or '.join(f'`{n}`' for n in found)}?" if found else ""
