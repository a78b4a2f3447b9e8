"""Whether a speed-up changed any result: classifications, stems and parsed records.

    .venv/bin/python bench/same_results.py --save before.jsonl   # on the old code
    .venv/bin/python bench/same_results.py --check before.jsonl  # on the new code

Writes (or compares against) one JSON line per result:

- ``classify`` of every labelled title (shared/data and tests/data), with and
  without the labelled status and document type as the source's metadata;
- ``classify`` of bench_classify's 10,000 varied titles and of bench_peers'
  titles (20,000), and ``lineage.stem`` of all of them;
- the records ``parse_list`` reads from bench_peers' 1,000 pages;
- the listing every replica case of ``monitor.replica.registry`` (contract and
  preset cases) gives through the real HTTP fetcher: every adapter, every
  replica page.

``--check`` prints the first differences and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_classify import SOURCES, base_titles, varied  # noqa: E402
from bench_peers import TITLE, TOPICS, Site  # noqa: E402

from monitor.classify import classify  # noqa: E402
from monitor.pipeline.lineage import stem  # noqa: E402
from sources.adapters.html_list import HtmlListSettings, parse_list  # noqa: E402


def _shown(value: object) -> object:
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value  # type: ignore[arg-type]


def _labelled() -> Iterator[dict[str, object]]:
    for path in [*SOURCES, *sorted((ROOT / "tests" / "data").glob("classify*.jsonl"))]:
        if path.exists():
            for line in path.read_text("utf-8").splitlines():
                if line.strip():
                    yield json.loads(line)


def results() -> Iterator[tuple[str, object]]:
    """(what, result) for every input, in a fixed order."""
    for row in _labelled():
        title = str(row["text"])
        yield f"classify {title}", _shown(classify(title))
        status, doc_type = row.get("status"), row.get("doc_type")
        if isinstance(status, str) or isinstance(doc_type, str):
            meta = classify(
                title,
                status=status if isinstance(status, str) else None,
                doc_type=doc_type if isinstance(doc_type, str) else None,
            )
            yield f"classify+meta {title}", _shown(meta)
    peers = [TITLE.format(TOPICS[n % len(TOPICS)], n) for n in range(20_000)]
    for title in [*varied(base_titles(), 10_000), *peers]:
        yield f"classify {title}", _shown(classify(title))
        yield f"stem {title}", stem(title)
    settings = HtmlListSettings.model_validate(
        {"name": "col", "kind": "html-list", "url": "http://127.0.0.1/", "item": ".list ul li"}
        | {"date": "span"}
    )
    for i, body in enumerate(Site(1000).bodies):
        page = parse_list(body.decode(), f"http://127.0.0.1/col{i}/index.html", settings)
        yield f"page {i}", [r.as_dict() for r in page.records]
    yield from _replicas()


def _replicas() -> Iterator[tuple[str, object]]:
    from monitor.replica.registry import CASES, serve
    from tests.helpers.contract import collect

    for case in CASES:
        with serve(case) as running:
            listing = collect(case, running.replica, running.server.url)
            shown = [r.as_dict() for r in listing.records]
            # the replica's base URL (a random port) out of the comparison
            text = json.dumps([shown, listing.page_text], ensure_ascii=False, sort_keys=True)
            yield f"replica {case.name}", text.replace(running.server.url, "BASE")


def main() -> None:
    parser = argparse.ArgumentParser()
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path)
    group.add_argument("--check", type=Path)
    args = parser.parse_args()
    lines = [
        json.dumps([what, result], ensure_ascii=False, sort_keys=True) for what, result in results()
    ]
    if args.save:
        args.save.write_text("\n".join(lines) + "\n", "utf-8")
        print(f"saved {len(lines)} results to {args.save}")
        return
    before = args.check.read_text("utf-8").splitlines()
    differ = [(a, b) for a, b in zip(before, lines, strict=False) if a != b]
    if len(before) != len(lines):
        print(f"{len(before)} results before, {len(lines)} now")
    for a, b in differ[:5]:
        print(f"- {a[:300]}\n+ {b[:300]}")
    print(f"{len(lines)} results, {len(differ)} differ")
    sys.exit(1 if differ or len(before) != len(lines) else 0)


if __name__ == "__main__":
    main()
