"""How a pipeline behaves: the knobs, with production defaults, buildable from a TOML section."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import attrs

from ..codes import SpecVersion
from ..errors import ConfigError
from .states import DocumentKind

__all__ = ["PipelineSettings"]

#: Kinds that have a 杭州版 <mo> message (IMPORTORDER, PERSONAL_GOODS_DECLAR) and so a platform step.
PLATFORM_KINDS = frozenset({DocumentKind.ORDER, DocumentKind.INVENTORY})


def _version(value: Any) -> SpecVersion:
    return SpecVersion.coerce(value)


def _kinds(value: Any) -> frozenset[DocumentKind]:
    if isinstance(value, frozenset):
        return value
    try:
        return frozenset(DocumentKind(v) for v in value)
    except (TypeError, ValueError) as exc:
        known = ", ".join(k.value for k in DocumentKind)
        raise ConfigError(f"platform_kinds: expected names among {known}", code="config.pipeline") from exc


@attrs.frozen(kw_only=True)
class PipelineSettings:
    """Behaviour of :class:`~cbec_declare.pipeline.Pipeline`.

    * ``spec_version``: the XSD the CEB messages are validated against before signing.
    * ``platform_kinds``: document kinds that go to the 跨境通关服务平台 (2.2) first; the others go
      straight to the exchange node.
    * ``batch_size``: documents per CEB message (1..the spec limit). 1 keeps every receipt about one
      document; larger batches sign fewer messages.
    * ``max_attempts`` / ``backoff`` / ``max_backoff``: a send that fails for a retryable reason is tried
      again after ``backoff × 2^(n-1)`` (capped), up to ``max_attempts`` times, then the document FAILS.
      (The transport clients also retry quickly inside one attempt.)
    * ``lease``: how long a worker owns a claimed document; a dead worker's documents come back after it.
      A worker checks, before each send, that the document is still as it claimed it, so a claim that
      outlasts its lease never sends twice; size the lease to outlast a worker's claim (its batch of
      steps, each with the transport's quick retries) so that such stale work stays rare.
    * ``signature_profile``: a name from :data:`cbec_declare.signing.PROFILES` (None = the signer's default).
    * ``ceb_flag``: the ``jkfSign/cebFlag`` of the <mo> messages ("02": the enterprise sends the CEB itself).
    """

    spec_version: SpecVersion = attrs.field(default=SpecVersion.V2018_113, converter=_version)
    platform_kinds: frozenset[DocumentKind] = attrs.field(default=PLATFORM_KINDS, converter=_kinds)
    batch_size: int = 1
    max_attempts: int = 8
    backoff: timedelta = timedelta(seconds=2)
    max_backoff: timedelta = timedelta(minutes=10)
    lease: timedelta = timedelta(seconds=90)
    signature_profile: str | None = None
    ceb_flag: str = "02"

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.batch_size <= 100:
            raise ConfigError(
                "batch_size must be between 1 and 100", code="config.pipeline", field="batch_size"
            )
        if self.max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1", code="config.pipeline", field="max_attempts")

    def retry_delay(self, attempts: int) -> timedelta:
        """The wait before attempt ``attempts + 1``."""
        delay: timedelta = self.backoff * (2 ** max(attempts - 1, 0))
        return min(delay, self.max_backoff)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> PipelineSettings:
        """From a ``[pipeline]`` TOML section; durations are given in seconds."""
        values: dict[str, Any] = {}
        for key, value in section.items():
            if key in ("backoff", "max_backoff", "lease"):
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise ConfigError(
                        f"pipeline.{key} is a number of seconds", code="config.pipeline", field=key
                    )
                values[key] = timedelta(seconds=value)
            elif key in attrs.fields_dict(cls):
                values[key] = value
            else:
                raise ConfigError(f"unknown setting pipeline.{key}", code="config.pipeline", field=key)
        return cls(**values)
