"""Log lines -> templates (drain3, variable fields masked) and template rarity -> a surprise.

`TemplateParser` mines one template per line; `TemplateStats` keeps a stream's template counts
and says how surprising a template is there; levels are normalised or read from the line.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from drain3 import TemplateMiner  # type: ignore[import-untyped]
from drain3.masking import MaskingInstruction  # type: ignore[import-untyped]
from drain3.template_miner_config import TemplateMinerConfig  # type: ignore[import-untyped]

# drain3 announces every template miner at INFO: one per pipeline and bench run is noise.
logging.getLogger("drain3").setLevel(logging.WARNING)

#: Canonical levels, least to most severe; error and critical lines add to a line's surprise.
LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error", "critical")
ERROR_LEVELS = frozenset({"error", "critical"})

_ALIASES = {
    "trace": "debug",
    "debug": "debug",
    "info": "info",
    "information": "info",
    "informational": "info",
    "notice": "info",
    "warn": "warning",
    "warning": "warning",
    "err": "error",
    "error": "error",
    "severe": "error",
    "crit": "critical",
    "critical": "critical",
    "fatal": "critical",
    "alert": "critical",
    "emerg": "critical",
    "emergency": "critical",
    "panic": "critical",
}
# Words that are a level when they stand alone near the start of a line ("alert" and "panic"
# are left out: they are common words of messages too).
_INFERRED = frozenset(_ALIASES) - {"alert", "panic", "information", "informational"}
_LEVEL_TOKENS = 8  # a level is looked for among the first tokens only (the header)
_TOKEN_STRIP = "[]():<>|,;"

# Masks applied before mining, most specific first (an address before a date that would take
# its first three numbers): what varies between lines of one template (block ids, uuids,
# addresses, timestamps, numbers) becomes one placeholder token.
_B = r"((?<=[^A-Za-z0-9])|^)"
_E = r"((?=[^A-Za-z0-9])|$)"
MASKS: tuple[tuple[str, str], ...] = (
    (r"blk_-?\d+", "BLK"),
    (_B + r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}" + _E, "UUID"),
    (_B + r"\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?" + _E, "ADDR"),
    (_B + r"(?=[\w.-]*[A-Za-z])[\w-]+(\.[\w-]+)+:\d{1,5}" + _E, "ADDR"),
    (_B + r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}([.,]\d+)?(Z|[+-]\d{2}:?\d{2})?" + _E, "TS"),
    (_B + r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}" + _E, "TS"),
    (_B + r"\d{1,2}:\d{2}:\d{2}([.,]\d+)?" + _E, "TS"),
    (r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b", "TS"),
    (_B + r"([0-9a-fA-F]{2}:){3,}[0-9a-fA-F]{2}" + _E, "ID"),
    # Hexadecimal and decimal numbers share one placeholder: one field may print either.
    (_B + r"0[xX][0-9a-fA-F]+" + _E, "NUM"),
    (_B + r"(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}" + _E, "NUM"),
    (_B + r"[-+]?\d+(\.\d+)?" + _E, "NUM"),
)


def normalise_level(value: str) -> str | None:
    """The canonical level of a name such as 'WARN', 'err' or 'Fatal'; None when unknown."""
    return _ALIASES.get(value.strip().lower())


def infer_level(line: str) -> str:
    """The level a raw line states in its first tokens ('[error]', 'WARN', 'FATAL'), or info."""
    for token in line.split(maxsplit=_LEVEL_TOKENS)[:_LEVEL_TOKENS]:
        word = token.strip(_TOKEN_STRIP).lower()
        if word in _INFERRED:
            return _ALIASES[word]
    return "info"


@dataclass(frozen=True, slots=True)
class Parsed:
    """A line's template: `template_id` is None for a line no known template takes."""

    template_id: int | None
    template: str
    created: bool


class TemplateParser:
    """drain3's template miner with opsgraph's masks; not thread-safe (callers hold a lock)."""

    def __init__(
        self,
        *,
        sim_threshold: float = 0.7,
        depth: int = 5,
        max_children: int = 100,
        max_templates: int | None = None,
    ) -> None:
        config = TemplateMinerConfig()
        config.drain_sim_th = sim_threshold
        config.drain_depth = depth
        config.drain_max_children = max_children
        config.drain_max_clusters = max_templates
        config.masking_instructions = [MaskingInstruction(p, name) for p, name in MASKS]
        config.parametrize_numeric_tokens = True
        self._miner: Any = TemplateMiner(config=config)
        self._drain: Any = self._miner.drain

    def add(self, line: str) -> Parsed:
        """Mine the line: it joins the closest template (which may generalise) or starts one."""
        result = self._miner.add_log_message(line)
        return Parsed(
            template_id=int(result["cluster_id"]),
            template=str(result["template_mined"]),
            created=result["change_type"] == "cluster_created",
        )

    def match(self, line: str) -> Parsed:
        """The template `add` would give the line, changing nothing (id None: a new template)."""
        tokens = self._drain.get_content_as_tokens(self._miner.masker.mask(line))
        cluster = self._drain.tree_search(self._drain.root_node, tokens, self._drain.sim_th, False)
        if cluster is None:
            return Parsed(template_id=None, template=" ".join(tokens), created=True)
        merged = self._drain.create_template(tokens, cluster.log_template_tokens)
        return Parsed(template_id=int(cluster.cluster_id), template=" ".join(merged), created=False)

    def template(self, template_id: int) -> str | None:
        cluster = self._drain.id_to_cluster.get(template_id)
        return None if cluster is None else str(cluster.get_template())

    def alive(self) -> set[int]:
        """Ids of the templates kept (the least recently seen go beyond max_templates)."""
        return {int(k) for k in self._drain.id_to_cluster}

    def __len__(self) -> int:
        return len(self._drain.id_to_cluster)


class TemplateStats:
    """Template counts of one stream of lines (one resource, or every line seen).

    A known template's probability is its share of the lines, (count + 1) / (lines + 1); a new
    template's is Good-Turing's estimate of meeting any new one, (singletons + 1) / (lines + 1):
    while a stream still shows new templates often, one more is no surprise. The surprise is
    -log10 of that probability (3 = one line in a thousand).
    """

    __slots__ = ("counts", "lines", "singletons")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.lines = 0
        self.singletons = 0

    def count(self, template_id: int | None) -> int:
        return 0 if template_id is None else self.counts.get(template_id, 0)

    def surprise(self, template_id: int | None) -> float:
        seen = self.count(template_id)
        hits = seen + 1 if seen else self.singletons + 1
        return -math.log10(min(hits / (self.lines + 1), 1.0))

    def add(self, template_id: int) -> None:
        before = self.counts.get(template_id, 0)
        self.counts[template_id] = before + 1
        self.lines += 1
        if before == 0:
            self.singletons += 1
        elif before == 1:
            self.singletons -= 1

    def remove(self, template_id: int) -> None:
        """Undo one `add` (a batch the store refused)."""
        before = self.counts[template_id]
        self.lines -= 1
        if before == 1:
            del self.counts[template_id]
            self.singletons -= 1
        else:
            self.counts[template_id] = before - 1
            if before == 2:
                self.singletons += 1

    def keep_only(self, alive: Iterable[int]) -> None:
        """Forget the counts of templates the parser no longer keeps (lines stay counted)."""
        keep = set(alive)
        self.counts = {t: c for t, c in self.counts.items() if t in keep}
        self.singletons = sum(1 for c in self.counts.values() if c == 1)
