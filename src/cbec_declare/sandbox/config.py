"""Configuration of the full local sandbox: :class:`SandboxConfig` and its sections.

Build a config in code, or from a TOML table with :meth:`SandboxConfig.from_toml`::

    [sandbox]
    seed = 7                          # one seed; every channel draws from its own RNG derived from it
    spec_version = "2018-113"         # the XSD the customs simulator validates against
    receipt_envelope = "bare"         # CEB receipts pushed bare, or "dxp" (inside a DxpMsg)
    batch_size = 100                  # at most this many …Return per receipt message
    receivers = ["http://127.0.0.1:8080/receipts"]

    [sandbox.timing]                  # seconds per receipt step, drawn uniformly, times time_scale
    time_scale = 1.0                  # 0.001 in tests: the same flow in milliseconds
    declaring = [0.2, 0.8]            # → 2   电子口岸申报中
    accepted = [0.5, 2.0]             # → 120 海关入库 (or 100 退单)

    [sandbox.business]
    rejection_rate = 0.05
    [sandbox.business.reasons]
    CEB621Message = [["-621005", "购买金额超过单笔限额"], ["100", "[Code:1313;Desc:订购人年度额度超限]"]]

    [sandbox.faults.platform]         # §2.2, per request: drop, 5xx, timeout, slow
    drop_rate = 0.02
    error_rate = 0.02
    [sandbox.faults.node]             # §2.3, the same kinds
    timeout_rate = 0.01
    [sandbox.faults.push]             # receipt pushes
    duplicate_rate = 0.05
    reorder_rate = 0.05

    [sandbox.push]                    # how the sandbox retries a push whose delivery failed
    attempts = 6

Rates are probabilities per request (per push for ``faults.push``); the four request rates of one
channel must add up to at most 1. Delays made by the sandbox (receipt steps, slow answers, push
lags and back-off) are multiplied by ``timing.time_scale``; HTTP timeouts are not. Every mistake is a
:class:`~cbec_declare.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import attrs

from .._toml import load_toml
from ..codes import SpecVersion
from ..envelope import IMPORT_RECEIVER
from ..errors import ConfigError
from ..models import DECLARATION_MESSAGES

__all__ = [
    "DEFAULT_REASONS",
    "DEFAULT_SIGNATURE_CODES",
    "BusinessConfig",
    "ChannelFaults",
    "FaultConfig",
    "PushConfig",
    "PushFaults",
    "SandboxConfig",
    "TimingConfig",
]

Range = tuple[float, float]
Reasons = Mapping[str, tuple[tuple[str, str], ...]]

#: Business rejections per declaration type: (returnStatus, returnInfo). The negative codes and their
#: texts are SPEC §7 (messages.md); ``[Code:1313;Desc:订购人年度额度超限]`` has the form of observed
#: returnInfo texts; the other ``100`` 海关退单 texts are illustrative [L].
DEFAULT_REASONS: Reasons = MappingProxyType(
    {
        "CEB311Message": (("-301008", "参数校验不通过"), ("100", "海关退单：订购人身份信息校验未通过")),
        "CEB411Message": (("-401009", "参数校验不通过"), ("100", "海关退单：支付人与订购人不一致")),
        "CEB511Message": (("100", "海关退单：运单信息与订单不一致"),),
        "CEB513Message": (("100", "海关退单：运单状态不符"),),
        "CEB621Message": (
            ("-621005", "购买金额超过单笔限额"),
            ("-621018", "超过年度限额"),
            ("100", "[Code:1313;Desc:订购人年度额度超限]"),
        ),
        "CEB623Message": (("100", "海关退单：清单已放行，不允许撤销"),),
        "CEB625Message": (("100", "海关退单：超过退货期限"),),
        "CEB711Message": (("100", "海关退单：运单未申报清单"),),
    }
)

#: The 验签失败 code per declaration type. 621/623/625 are SPEC §7 (-621029, -623029, -625005). SPEC
#: §7 as transcribed names none for 311/411/511/513/711, so the sandbox answers the family's
#: 参数校验不通过 code where there is one (-301008, -401009) and the first code of the family's range
#: otherwise (-504000, -505000, -800000), always with returnInfo ``验签失败…`` [L, our choice].
DEFAULT_SIGNATURE_CODES: Mapping[str, str] = MappingProxyType(
    {
        "CEB311Message": "-301008",
        "CEB411Message": "-401009",
        "CEB511Message": "-504000",
        "CEB513Message": "-505000",
        "CEB621Message": "-621029",
        "CEB623Message": "-623029",
        "CEB625Message": "-625005",
        "CEB711Message": "-800000",
    }
)

#: The 入库回执 reasons for chkMark 2 (the platform's own sample texts).
DEFAULT_PLATFORM_REASONS = ("行邮税号:04010100, 未备案", "商品货号:SKU0010001,料号不存在申请单明细中")

_TYPE = re.compile(r"(?:CEB)?(\d{3})(?:Message)?")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _fail(name: str, problem: str) -> ConfigError:
    return ConfigError(f"sandbox config {name}: {problem}", code="config.sandbox", field=name)


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _check(test: Callable[[Any], bool], wanted: str) -> Any:
    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not test(value):
            raise _fail(attribute.name, f"must be {wanted}, got {value!r}")

    return check


def _count(low: int, high: int) -> Any:
    return _check(lambda v: type(v) is int and low <= v <= high, f"an integer {low}..{high}")


def _one_of(*choices: str) -> Any:
    return _check(lambda v: v in choices, f"one of {', '.join(choices)}")


_rate = _check(lambda v: _number(v) and 0 <= v <= 1, "a probability between 0 and 1")
_non_negative = _check(lambda v: _number(v) and v >= 0, "a number >= 0")
_positive = _check(lambda v: _number(v) and v > 0, "a positive number")
_range = _check(
    lambda v: isinstance(v, tuple) and len(v) == 2 and 0 <= v[0] <= v[1],
    "[low, high] seconds, 0 <= low <= high",
)
_boolean = _check(lambda v: isinstance(v, bool), "true or false")
_send_code = _check(lambda v: isinstance(v, str) and bool(re.fullmatch(r"[0-9A-Za-z]{10}", v)),
                    "the 10-character 发送方代码 (sendCode)")  # fmt: skip
_loopback = _check(lambda v: v in _LOOPBACK, "a loopback address (the sandbox listens on 127.0.0.1)")


def _to_range(value: Any) -> Any:
    if _number(value):
        return (float(value), float(value))
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(_number(v) for v in value):
        return (float(value[0]), float(value[1]))
    return value  # the validator names the problem


def _message_type(name: str, where: str) -> str:
    match = _TYPE.fullmatch(str(name).strip())
    full = f"CEB{match.group(1)}Message" if match else str(name)
    if full not in DECLARATION_MESSAGES:
        raise _fail(where, f"{name!r} is not a declaration type ({', '.join(DECLARATION_MESSAGES)})")
    return full


def _to_reasons(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise _fail("reasons", "must map a declaration type to [[returnStatus, returnInfo], ...]")
    merged = dict(DEFAULT_REASONS)
    for name, entries in value.items():
        full = _message_type(name, f"reasons.{name}")
        pairs = tuple(tuple(entry) for entry in entries) if isinstance(entries, (list, tuple)) else ()
        if not pairs or any(
            len(p) != 2 or not re.fullmatch(r"100|-\d{1,9}", str(p[0])) or not 0 < len(str(p[1])) <= 1000
            for p in pairs
        ):
            raise _fail(
                f"reasons.{name}", "needs [[returnStatus, returnInfo], ...] with 100 or a negative code"
            )
        merged[full] = tuple((str(code), str(text)) for code, text in pairs)
    return MappingProxyType(merged)


def _to_codes(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise _fail("signature_codes", "must map a declaration type to a negative returnStatus")
    merged = dict(DEFAULT_SIGNATURE_CODES)
    for name, code in value.items():
        if not re.fullmatch(r"-\d{1,9}", str(code)):
            raise _fail(f"signature_codes.{name}", f"must be a negative code, got {code!r}")
        merged[_message_type(name, f"signature_codes.{name}")] = str(code)
    return MappingProxyType(merged)


def _from_mapping(cls: Any, data: Any, where: str) -> Any:
    """Build an attrs config class from a (TOML) mapping, recursing into the nested sections."""
    if not isinstance(data, Mapping):
        raise _fail(where, f"must be a table, got {type(data).__name__}")
    names = {f.name for f in attrs.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise _fail(f"{where}.{unknown[0]}", f"unknown key (known: {', '.join(sorted(names))})")
    nested: Mapping[str, Any] = getattr(cls, "_NESTED", {})
    kwargs = {
        key: _from_mapping(nested[key], value, f"{where}.{key}") if key in nested else value
        for key, value in data.items()
    }
    for key in ("receivers", "trusted_certificates", "error_statuses", "platform_reasons"):
        if isinstance(kwargs.get(key), list):
            kwargs[key] = tuple(kwargs[key])
    return cls(**kwargs)


@attrs.frozen(kw_only=True)
class TimingConfig:
    """Seconds between receipt steps (uniform in ``[low, high]``), all multiplied by ``time_scale``."""

    time_scale: float = attrs.field(default=1.0, validator=_positive)
    declaring: Range = attrs.field(default=(0.2, 0.8), converter=_to_range, validator=_range)  # → 2
    accepted: Range = attrs.field(default=(0.5, 2.0), converter=_to_range, validator=_range)  # → 120/100
    review: Range = attrs.field(default=(1.0, 3.0), converter=_to_range, validator=_range)  # → 300/500
    concluded: Range = attrs.field(default=(0.5, 2.0), converter=_to_range, validator=_range)  # → 399
    released: Range = attrs.field(default=(0.5, 2.0), converter=_to_range, validator=_range)  # → 800
    platform: Range = attrs.field(default=(0.3, 1.0), converter=_to_range, validator=_range)  # 入库回执

    def scaled(self, seconds: float) -> float:
        """``seconds`` on the sandbox's clock (times ``time_scale``)."""
        return seconds * self.time_scale


@attrs.frozen(kw_only=True)
class BusinessConfig:
    """What customs and the platform decide: rejection rates and reasons, review and inspection rates."""

    rejection_rate: float = attrs.field(default=0.0, validator=_rate)
    reasons: Reasons = attrs.field(factory=dict, converter=_to_reasons)
    #: share of CEB621 documents that go through 300 人工审核 / 500 查验 before 399 → 800
    manual_review_rate: float = attrs.field(default=0.1, validator=_rate)
    inspection_rate: float = attrs.field(default=0.05, validator=_rate)
    signature_codes: Mapping[str, str] = attrs.field(factory=dict, converter=_to_codes)
    #: share of ``<mo>`` documents whose 入库回执 says chkMark 2, and the texts drawn for it
    platform_rejection_rate: float = attrs.field(default=0.0, validator=_rate)
    platform_reasons: tuple[str, ...] = DEFAULT_PLATFORM_REASONS


@attrs.frozen(kw_only=True)
class ChannelFaults:
    """Faults injected per HTTP request on one server (``platform`` §2.2 or ``node`` §2.3).

    ``timeout_mode``: ``"hang"`` — never answer; the handler waits until the sandbox stops and the
    message is not processed; ``"late"`` — wait ``late_seconds`` (not scaled; set it above the
    client's read timeout), then process the message and answer a client that has gone: its retry becomes a
    duplicate delivery, as after a real timeout.
    """

    drop_rate: float = attrs.field(default=0.0, validator=_rate)
    error_rate: float = attrs.field(default=0.0, validator=_rate)
    timeout_rate: float = attrs.field(default=0.0, validator=_rate)
    slow_rate: float = attrs.field(default=0.0, validator=_rate)
    error_statuses: tuple[int, ...] = (500, 502, 503)
    slow_seconds: Range = attrs.field(default=(0.5, 3.0), converter=_to_range, validator=_range)
    timeout_mode: str = attrs.field(default="hang", validator=_one_of("hang", "late"))
    late_seconds: float = attrs.field(default=60.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.drop_rate + self.error_rate + self.timeout_rate + self.slow_rate > 1 + 1e-9:
            raise _fail("faults", "drop_rate + error_rate + timeout_rate + slow_rate must not exceed 1")
        if not self.error_statuses or any(
            isinstance(s, bool) or not isinstance(s, int) or not 500 <= s <= 599 for s in self.error_statuses
        ):
            raise _fail("error_statuses", f"must be HTTP 5xx codes, got {self.error_statuses!r}")


@attrs.frozen(kw_only=True)
class PushFaults:
    """Faults on receipt pushes, drawn once per push (``fail_rate`` once per delivery attempt).

    ``duplicate_rate``: the push is delivered twice. ``reorder_rate``: the push is held back until
    after the last receipt of its message (out of order). ``fail_rate``: an attempt is lost on the
    way and retried by the sandbox. ``loss_rate``: the push is never sent (counted, logged).
    """

    duplicate_rate: float = attrs.field(default=0.0, validator=_rate)
    reorder_rate: float = attrs.field(default=0.0, validator=_rate)
    fail_rate: float = attrs.field(default=0.0, validator=_rate)
    loss_rate: float = attrs.field(default=0.0, validator=_rate)
    duplicate_lag: Range = attrs.field(default=(0.05, 0.5), converter=_to_range, validator=_range)
    reorder_lag: Range = attrs.field(default=(0.5, 3.0), converter=_to_range, validator=_range)


@attrs.frozen(kw_only=True)
class FaultConfig:
    """Fault rates for the platform, the node and the pushes (all zero by default)."""

    _NESTED: ClassVar[Mapping[str, type]] = {
        "platform": ChannelFaults,
        "node": ChannelFaults,
        "push": PushFaults,
    }

    platform: ChannelFaults = attrs.field(factory=ChannelFaults)
    node: ChannelFaults = attrs.field(factory=ChannelFaults)
    push: PushFaults = attrs.field(factory=PushFaults)


@attrs.frozen(kw_only=True)
class PushConfig:
    """Delivery of pushes: HTTP timeout (s, not scaled), attempts, back-off (s, scaled), queue bound."""

    timeout: float = attrs.field(default=10.0, validator=_positive)
    attempts: int = attrs.field(default=6, validator=_count(1, 100))
    backoff: float = attrs.field(default=1.0, validator=_non_negative)
    max_backoff: float = attrs.field(default=60.0, validator=_non_negative)
    #: pending pushes above which the node answers 系统流控 instead of taking new messages
    max_pending: int = attrs.field(default=100_000, validator=_count(1, 10_000_000))
    #: delivery threads; with more than one, pushes due at the same moment may arrive in any order
    #: (as from customs), so the default 1 keeps a seeded run's delivery order reproducible
    concurrency: int = attrs.field(default=1, validator=_count(1, 64))


def _spec_version(value: Any) -> str:
    return SpecVersion.coerce(value).value


@attrs.frozen(kw_only=True)
class SandboxConfig:
    """Everything the :class:`~cbec_declare.sandbox.sandbox.Sandbox` needs; every default is usable.

    Keys: ``aes_key`` (Base64), ``enterprise_private_key`` (PEM or Base64 PKCS#8; or only
    ``enterprise_public_key`` when the enterprise keeps its key) and ``platform_private_key`` are
    generated when not given. ``trusted_certificates`` (PEM text or file paths) pin the XMLDSig
    certificates customs accepts; empty: the KeyInfo certificate, checked for validity only.
    """

    _NESTED: ClassVar[Mapping[str, type]] = {
        "timing": TimingConfig,
        "business": BusinessConfig,
        "faults": FaultConfig,
        "push": PushConfig,
    }

    seed: int = attrs.field(default=0, validator=_count(-(2**63), 2**63))
    spec_version: str = attrs.field(default=SpecVersion.V2018_113.value, converter=_spec_version)
    host: str = attrs.field(default="127.0.0.1", validator=_loopback)
    platform_port: int = attrs.field(default=0, validator=_count(0, 65535))
    node_port: int = attrs.field(default=0, validator=_count(0, 65535))
    send_code: str = attrs.field(default="3301964J31", validator=_send_code)
    enterprise_dxp_id: str = "DXPENT0000458763"
    customs_dxp_id: str = IMPORT_RECEIVER
    receipt_envelope: str = attrs.field(default="bare", validator=_one_of("bare", "dxp"))
    batch_size: int = attrs.field(default=100, validator=_count(1, 100))
    require_signature: bool = attrs.field(default=True, validator=_boolean)
    trusted_certificates: tuple[str, ...] = ()
    receivers: tuple[str, ...] = ()
    aes_key: str | None = attrs.field(default=None, repr=False)
    enterprise_private_key: str | None = attrs.field(default=None, repr=False)
    enterprise_public_key: str | None = attrs.field(default=None, repr=False)
    platform_private_key: str | None = attrs.field(default=None, repr=False)
    #: messages and documents remembered (the oldest are forgotten first)
    max_tracked: int = attrs.field(default=200_000, validator=_count(100, 100_000_000))
    timing: TimingConfig = attrs.field(factory=TimingConfig)
    business: BusinessConfig = attrs.field(factory=BusinessConfig)
    faults: FaultConfig = attrs.field(factory=FaultConfig)
    push: PushConfig = attrs.field(factory=PushConfig)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, base_dir: Path | str | None = None) -> SandboxConfig:
        """From a ``[sandbox]`` table; relative certificate paths are resolved against ``base_dir``."""
        config: SandboxConfig = _from_mapping(cls, data, "sandbox")
        if base_dir is not None:
            paths = tuple(
                c if "-----BEGIN" in c or Path(c).is_absolute() else str(Path(base_dir) / c)
                for c in config.trusted_certificates
            )
            config = attrs.evolve(config, trusted_certificates=paths)
        return config

    @classmethod
    def from_toml(cls, path: Path | str, *, section: str = "sandbox") -> SandboxConfig:
        """Read the ``[sandbox]`` table (or ``section``) of a TOML file; an absent table is the default."""
        file = Path(path)
        document = load_toml(file)
        return cls.from_mapping(document.get(section, {}), base_dir=file.parent)
