"""Format the figures as plain-text tables."""

from bench.measure import Sample


def table(headers: list[str], rows: list[list], align_left: int = 2) -> str:
    """A fixed-width table; the first `align_left` columns are left-aligned, the rest right."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(values):
        return "  ".join(
            v.ljust(w) if i < align_left else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in cells)])


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"
    return str(value)


def timing_row(
    operation: str, backend: str, sample: Sample, bare: Sample | None = None, ms: float | None = None
) -> list:
    """operation, backend, calls, per s, median ms, p95 ms, cpu ms, bare median ms, ratio, errors.

    `ms` replaces the median when only a total was timed (the ratio then uses it too).
    """
    median = sample.median_ms if ms is None else ms
    bare_ms = bare.median_ms if bare is not None else None
    ratio = f"{median / bare_ms:.1f}x" if bare_ms and median else None
    errors = sum(sample.errors.values()) or ""
    per_second = sample.per_second if ms is None else 1000 / ms
    return [
        operation,
        backend,
        sample.count,
        per_second,
        median,
        sample.p95_ms if ms is None else None,
        sample.cpu_median_ms if ms is None else None,
        bare_ms,
        ratio,
        errors,
    ]


TIMING_HEADERS = [
    "operation",
    "backend",
    "calls",
    "per s",
    "median ms",
    "p95 ms",
    "cpu ms",
    "bare ms",
    "ratio",
    "errors",
]
