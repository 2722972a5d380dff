"""The tables ``python -m bench`` prints."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table

from bench.sealing import Comparison
from bench.throughput import OURS, Summary, paired_ratios, ratio


def facts_table(facts: Mapping[str, str]) -> Table:
    table = Table(title="Machine", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for name, value in facts.items():
        table.add_row(name, value)
    return table


def _ratio_cell(summaries: list[Summary], backend: str) -> str:
    ratios = paired_ratios(summaries, backend)
    return f"{ratio(summaries, backend):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


def results_table(summaries: list[Summary], backends: list[str], sizes: Mapping[str, int]) -> Table:
    table = Table(
        title=(
            f"Command throughput: {sizes['stories']} stories per round, "
            f"median of {sizes['repeat']} rounds"
        ),
        caption=(
            "story = open case, record consent, refer, acknowledge, accept; "
            "CPU = this process only; ratio = median of paired rounds (min-max)"
        ),
    )
    for column in ("backend", "implementation"):
        table.add_column(column)
    for column in ("stories/s", "events/s", "ms/story", "CPU ms/story", "events/story"):
        table.add_column(column, justify="right")
    table.add_column("stories/s min-max", justify="right")
    table.add_column("rete / baseline", justify="right")
    for backend in backends:
        for summary in (s for s in summaries if s.backend == backend):
            low, high = summary.spread
            table.add_row(
                backend,
                summary.implementation,
                f"{summary.stories_per_s:,.1f}",
                f"{summary.events_per_s:,.0f}",
                f"{summary.ms_per_story:.2f}",
                f"{summary.cpu_ms_per_story:.2f}",
                f"{summary.events_per_story:g}",
                f"{low:,.1f}-{high:,.1f}",
                _ratio_cell(summaries, backend) if summary.implementation == OURS else "",
            )
        table.add_section()
    return table


def sealing_table(comparisons: list[Comparison]) -> Table:
    table = Table(
        title="Sealing one event, in the same run",
        caption="median of interleaved rounds; microseconds per call",
    )
    table.add_column("comparison")
    for column in ("rete µs", "baseline µs", "rete / baseline"):
        table.add_column(column, justify="right")
    for c in comparisons:
        table.add_row(c.name, f"{c.ours_us:.2f}", f"{c.baseline_us:.2f}", f"{c.ratio:.2f}x")
    return table
