"""How fast the diff package is on realistic sizes.

    .venv/bin/python bench/bench_diff.py

Record diff of 3,000 FDA-sized records (unchanged; unchanged but every record
re-served with whitespace / full-width noise, so every one is normalised;
10 real changes), and text diff of a 200 KB Chinese document with a few
edits. Prints the best of several runs in milliseconds.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace

from diffing.normalise import normalise_text
from diffing.records import diff as diff_records
from diffing.text import diff as diff_text
from sources.types import Attachment, Record

HAN = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 2500))


def measure(label: str, action: Callable[[], object], repeat: int = 5) -> None:
    """Print the best wall-clock and CPU time of ``repeat`` runs, in ms."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    print(f"{label:<44} wall {wall * 1000:8.1f} ms   CPU {cpu * 1000:8.1f} ms")


def make_records(count: int, rng: random.Random) -> list[Record]:
    records = []
    for i in range(count):
        slug = f"guidance-{i:05d}"
        records.append(
            Record(
                key=slug,
                title=f"Considerations for the Development of Product {i} (Draft Guidance)",
                url=f"https://www.fda.gov/regulatory-information/search-fda-guidance-documents/{slug}",
                date=f"20{rng.randint(10, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                status=rng.choice(["Draft", "Final"]),
                attachments=(
                    Attachment(f"https://www.fda.gov/media/{100000 + i}/download", "PDF"),
                ),
                fields={
                    "office": "Center for Biologics Evaluation and Research",
                    "docket": f"FDA-20{rng.randint(10, 25)}-D-{rng.randint(1000, 9999)}",
                    "doc_type": "Guidance Document",
                    "updated": f"2025-03-{rng.randint(10, 28)} 15:42",
                },
            )
        )
    return records


def noisy(record: Record) -> Record:
    return replace(
        record,
        title=f"  {record.title.replace('(', '（').replace(')', '）')}\u3000",
        fields={k: f"{v} " for k, v in reversed(list(record.fields.items()))},
    )


def bench_records() -> None:
    rng = random.Random(1)
    records = make_records(3000, rng)
    previous = {r.key: r for r in records}
    shuffled = records[:]
    rng.shuffle(shuffled)
    with_noise = [noisy(r) for r in shuffled]
    changed = shuffled[:]
    for index in rng.sample(range(len(changed)), 10):
        changed[index] = replace(changed[index], status="Final", title=changed[index].title + " v2")
    result = diff_records(previous, changed)
    assert len(result.changed) == 10 and not diff_records(previous, with_noise).has_changes
    measure("records: 3,000 unchanged", lambda: diff_records(previous, shuffled))
    measure("records: 3,000 re-served with noise", lambda: diff_records(previous, with_noise))
    measure("records: 3,000 with 10 changes", lambda: diff_records(previous, changed))


def bench_text() -> None:
    rng = random.Random(2)
    paragraphs: list[str] = []
    while sum(map(len, paragraphs)) < 200_000:
        paragraphs.append(
            "".join(rng.choice(HAN + "，的了") for _ in range(rng.randint(60, 300))) + "。"
        )
    old = "\n".join(paragraphs)
    lines = old.split("\n")
    for index in rng.sample(range(len(lines)), 5):
        cut = rng.randrange(len(lines[index]) - 3)
        lines[index] = lines[index][:cut] + "自发布之日起2个月" + lines[index][cut + 3 :]
    lines.insert(len(lines) // 2, "新增：本指导原则自发布之日起施行。")
    new = "\n".join(lines)
    result = diff_text(old, new)
    assert result.changed
    measure("text: 200 KB Chinese, 6 edits: diff", lambda: diff_text(old, new))
    measure("text: 200 KB Chinese: normalise_text", lambda: normalise_text(old))
    measure(
        "text: unified + html + excerpt of that diff",
        lambda: (result.unified(), result.html(), result.excerpt()),
    )
    single_old, single_new = old.replace("\n", ""), new.replace("\n", "")
    measure("text: same, as one 200 KB line: diff", lambda: diff_text(single_old, single_new), 3)
    other = "\n".join(reversed(paragraphs))
    measure("text: 200 KB vs its paragraphs reversed", lambda: diff_text(old, other), 3)


if __name__ == "__main__":
    bench_records()
    bench_text()
