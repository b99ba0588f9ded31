"""Log-scale histogram buckets for durations: medians and p90 from counts, without the raw values.

Bucket 0 holds durations under one second; bucket b >= 1 holds [BASE ** (b - 1), BASE ** b)
seconds with BASE = 2 ** (1 / 4), so a bucket is about 19 % wide and a quantile read from the
buckets (interpolated inside its bucket) is within about 10 % of the exact one. 100 buckets
reach a year; longer durations go into the last one.
"""

import math
from collections.abc import Mapping

BASE = 2**0.25
LAST = 100


def bucket_of(seconds: float) -> int:
    """The bucket a duration falls in (negative durations count as 0)."""
    if seconds < 1:
        return 0
    return min(LAST, int(math.floor(math.log(seconds, BASE))) + 1)


def bounds(bucket: int) -> tuple[float, float]:
    """The [low, high) seconds of a bucket."""
    if bucket <= 0:
        return 0.0, 1.0
    return BASE ** (bucket - 1), BASE**bucket


def quantile(counts: Mapping[int, int], q: float) -> float | None:
    """The q-quantile (0 < q < 1) of the durations counted per bucket; None when there are none.

    The nearest-rank quantile's bucket, interpolated linearly inside it (a lone value: its middle).
    """
    total = sum(n for n in counts.values() if n > 0)
    if total <= 0:
        return None
    rank = q * total
    seen = 0
    for bucket in sorted(counts):
        n = counts[bucket]
        if n <= 0:
            continue
        if seen + n >= rank:
            if bucket <= 0:
                return 0.0  # under a second: reported as 0
            low, high = bounds(bucket)
            return low + (high - low) * max(0.0, min(1.0, (rank - seen - 0.5) / n))
        seen += n
    low, high = bounds(max(counts))
    return high
