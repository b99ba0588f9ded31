"""The retry policy of a service task, as its diagram's `spiffworkflow:retry` gives it.

    <spiffworkflow:retry retries="5" backoff_base="2" initial_interval="10"
                         max_interval="PT10M" non_retryable="LookupError TimeoutError"/>

SpiffWorkflow's parser keeps `retries` and `backoff_base` on the spec (`retries`,
`retry_backoff_base`, both whole numbers); our parser (`spiff/parser.py`) keeps every attribute
of the element as text in `retry_attributes`, and `policy_of(spec)` is the one place that turns
them into a `RetryPolicy`. An attribute left out takes the default below. Intervals are seconds
or an ISO-8601 duration of days, hours, minutes and seconds (`PT10M`); `non_retryable` lists
error kinds (the class name of what a handler raised) separated by spaces or commas. The deploy
check refuses a diagram whose policy does not read, naming the element.
"""

import math
import re
from dataclasses import dataclass

DEFAULT_ATTEMPTS = 3
DEFAULT_BACKOFF_BASE = 2.0
DEFAULT_INITIAL_INTERVAL = 2.0  # seconds: with the default base, 2 s, 4 s, 8 s ...
DEFAULT_MAX_INTERVAL = 3600.0  # seconds
MAX_ATTEMPTS = 100
# Ours: SpiffWorkflow's parser and XML Schema know only `retries` and `backoff_base`.
RETRY_EXTRAS = ("initial_interval", "max_interval", "non_retryable")
_DURATION = re.compile(
    r"P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)
_KIND = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


@dataclass(frozen=True)
class RetryPolicy:
    """How often a job is tried and how long it waits between tries.

    `max_attempts` counts every try, the first included; after a failed attempt n the job waits
    `min(max_interval, initial_interval * backoff_base ** (n - 1))` seconds. An error whose kind
    is in `non_retryable` is not tried again: it opens an incident at once (so does a handler's
    refusal of its input, whatever the policy says).
    """

    max_attempts: int = DEFAULT_ATTEMPTS
    backoff_base: float = DEFAULT_BACKOFF_BASE
    initial_interval: float = DEFAULT_INITIAL_INTERVAL
    max_interval: float = DEFAULT_MAX_INTERVAL
    non_retryable: frozenset[str] = frozenset()

    def __post_init__(self):
        if not 1 <= self.max_attempts <= MAX_ATTEMPTS:
            raise ValueError(f"retries must be from 1 to {MAX_ATTEMPTS}, got {self.max_attempts}")
        if not (math.isfinite(self.backoff_base) and self.backoff_base >= 1):
            raise ValueError(f"backoff_base must be 1 or more, got {self.backoff_base}")
        if not (math.isfinite(self.initial_interval) and self.initial_interval >= 0):
            raise ValueError(f"initial_interval must be 0 seconds or more, got {self.initial_interval}")
        if not (math.isfinite(self.max_interval) and self.max_interval >= self.initial_interval):
            raise ValueError(
                f"max_interval must be at least initial_interval ({self.initial_interval} s), "
                f"got {self.max_interval}"
            )

    def columns(self) -> dict:
        """The policy as the `job` row's columns."""
        return {
            "max_attempts": self.max_attempts,
            "backoff_base": self.backoff_base,
            "initial_interval": self.initial_interval,
            "max_interval": self.max_interval,
            "non_retryable": sorted(self.non_retryable),
        }

    @classmethod
    def of_row(cls, row) -> "RetryPolicy":
        """The policy a `job` row carries (written by `columns`)."""
        return cls(
            max_attempts=max(1, row.max_attempts),
            backoff_base=row.backoff_base,
            initial_interval=row.initial_interval,
            max_interval=max(row.max_interval, row.initial_interval),
            non_retryable=frozenset(row.non_retryable or ()),
        )

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt `attempt` (1 for the first try)."""
        exponent = max(0, attempt - 1)
        if self.initial_interval == 0:
            return 0.0
        # Compare logarithms: base ** exponent overflows long before the cap matters.
        if self.backoff_base > 1 and (
            math.log(self.initial_interval) + exponent * math.log(self.backoff_base)
            >= math.log(self.max_interval)
        ):
            return self.max_interval
        return min(self.max_interval, self.initial_interval * self.backoff_base**exponent)


def policy_of(spec) -> RetryPolicy:
    """The retry policy of a service task spec (defaults where the diagram says nothing).

    Raises:
        ValueError: an attribute of `spiffworkflow:retry` does not read; the message names it.
    """
    attrs = dict(getattr(spec, "retry_attributes", None) or {})
    values = {}
    retries = attrs.get("retries", getattr(spec, "retries", None))
    if retries not in (None, ""):
        values["max_attempts"] = _whole(retries, "retries")
    base = attrs.get("backoff_base", getattr(spec, "retry_backoff_base", None))
    if base not in (None, ""):
        values["backoff_base"] = _number(base, "backoff_base")
    for name in ("initial_interval", "max_interval"):
        if attrs.get(name, "") != "":
            values[name] = seconds(attrs[name], name)
    if attrs.get("non_retryable", "").strip():
        kinds = frozenset(k for k in re.split(r"[\s,]+", attrs["non_retryable"].strip()) if k)
        bad = sorted(k for k in kinds if not _KIND.fullmatch(k))
        if bad:
            raise ValueError(f"non_retryable names error kinds (class names), got {', '.join(bad)}")
        values["non_retryable"] = kinds
    if "max_interval" not in values and values.get("initial_interval", 0) > DEFAULT_MAX_INTERVAL:
        values["max_interval"] = values["initial_interval"]
    return RetryPolicy(**values)


def seconds(value, name: str) -> float:
    """Seconds from a number or an ISO-8601 duration of days, hours, minutes and seconds."""
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    match = _DURATION.fullmatch(text.upper())
    if not match or text.upper() in ("P", "PT") or text.upper().endswith("T"):
        raise ValueError(f"{name} must be seconds or an ISO-8601 duration such as PT10M, got {text!r}")
    parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
    return parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)


def _whole(value, name: str) -> int:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if not number.is_integer():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return int(number)


def _number(value, name: str) -> float:
    try:
        return float(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
