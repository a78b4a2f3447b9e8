"""Per-field precision and recall of the classifier on a labelled file.

    .venv/bin/python bench/score_classify.py [FILE.jsonl ...]

Default: the fresh generalisation sample (tests/data/classify-fresh-2026-12.jsonl).
Only the fields present on a line are scored (as in tests/test_classify.py);
``text`` and ``source`` are not labels. For ``relevant`` the positive class is
``true``; for the list fields (cn, eu, us, jp, modalities, disciplines) every
(line, value) pair counts; for single-valued fields (scope, doc_type, status)
every (line, value) pair too, so precision and recall are per value, micro-
averaged. ``exact`` is the share of lines whose field is exactly right.
A field the classifier does not produce yet scores 0 recall.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.classify import classify  # noqa: E402

DEFAULT = ROOT / "tests" / "data" / "classify-fresh-2026-12.jsonl"
NOT_LABELS = {"text", "source"}


def _values(value: Any) -> set[str]:
    if isinstance(value, bool):
        return {"true"} if value else set()
    if isinstance(value, str):
        return {value}
    return {str(v) for v in value or ()}


def score(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """field -> {precision, recall, exact, n}."""
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    exact: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for row in rows:
        got = classify(row["text"]).as_dict()
        for field, want in row.items():
            if field in NOT_LABELS:
                continue
            have = got.get(field)
            total[field] += 1
            exact[field] += have == want or (
                isinstance(want, list) and have is not None and sorted(have) == sorted(want)
            )
            w, h = _values(want), _values(have)
            tp[field] += len(w & h)
            fp[field] += len(h - w)
            fn[field] += len(w - h)
    out = {}
    for field in total:
        p = tp[field] / (tp[field] + fp[field]) if tp[field] + fp[field] else 1.0
        r = tp[field] / (tp[field] + fn[field]) if tp[field] + fn[field] else 1.0
        out[field] = {
            "precision": p,
            "recall": r,
            "exact": exact[field] / total[field],
            "n": float(total[field]),
        }
    return out


def main(argv: list[str]) -> None:
    for path in [Path(a) for a in argv] or [DEFAULT]:
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        print(f"{path.name}: {len(rows)} lines")
        for field, s in sorted(score(rows).items()):
            print(
                f"  {field:<12} P {s['precision']:.3f}  R {s['recall']:.3f}  "
                f"exact {s['exact']:.3f}  (n={int(s['n'])})"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
