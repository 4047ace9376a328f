"""customs' ``platDataOpen`` request and the platform's immediate answer (sans-IO).

Customs POSTs ``application/x-www-form-urlencoded`` with one field ``openReq`` holding JSON
``{"orderNo":"…","sessionID":"…","serviceTime":1533271903898}``; some gateways deliver it
HTML-escaped (``{&quot;orderNo&quot;:…}``). The platform answers at once
``{"code":"10000","message":"","serviceTime":<ms>}`` (179DOC §1.6.1). The interface leaves the error
codes to the platform within 20000/20001–21000; ours are :data:`ANSWER_CODES`.

Only the JSON text decides validity: it is parsed as is, and HTML-unescaped only when that parse
fails (so an ``&amp;`` inside a valid value is never altered).
"""

from __future__ import annotations

import html
import json
import re
import time
from typing import Any
from urllib.parse import parse_qs

from .._json import loads_untrusted
from ..errors import ModelError
from .models import OpenRequest

__all__ = [
    "ANSWER_BAD_FIELD",
    "ANSWER_BAD_JSON",
    "ANSWER_BUSY",
    "ANSWER_CODES",
    "ANSWER_FAILED",
    "ANSWER_METHOD",
    "ANSWER_NO_OPENREQ",
    "ANSWER_OK",
    "ANSWER_SESSION_CONFLICT",
    "ANSWER_TOO_LARGE",
    "answer_json",
    "parse_open_req",
    "parse_open_req_form",
]

ANSWER_OK = "10000"
#: the request could not be recorded (storage failure); customs may ask again
ANSWER_FAILED = "20000"
#: no ``openReq`` form field (empty body, not a form, or the field given twice)
ANSWER_NO_OPENREQ = "20001"
#: ``openReq`` is not a JSON object, even after HTML-unescaping
ANSWER_BAD_JSON = "20002"
#: ``orderNo``, ``sessionID`` or ``serviceTime`` missing, of the wrong type or form
ANSWER_BAD_FIELD = "20003"
#: the request body is larger than the configured limit
ANSWER_TOO_LARGE = "20004"
#: this sessionID was already received for another order
ANSWER_SESSION_CONFLICT = "20005"
#: the upload queue is full; the request is recorded, customs should ask again later
ANSWER_BUSY = "20006"
#: not a POST
ANSWER_METHOD = "20007"

#: code → meaning, for documentation and logs
ANSWER_CODES = {
    ANSWER_OK: "accepted; the upload follows",
    ANSWER_FAILED: "the request could not be recorded",
    ANSWER_NO_OPENREQ: "no openReq form field",
    ANSWER_BAD_JSON: "openReq is not a JSON object",
    ANSWER_BAD_FIELD: "orderNo, sessionID or serviceTime missing or malformed",
    ANSWER_TOO_LARGE: "request body too large",
    ANSWER_SESSION_CONFLICT: "sessionID already used for another order",
    ANSWER_BUSY: "platform busy; recorded, ask again later",
    ANSWER_METHOD: "POST only",
}

_FIELDS = ("orderNo", "sessionID", "serviceTime")
_MAX_ORDER_NO = 60  # CEB311 orderNo C..60
_MAX_SESSION_ID = 100  # not documented; real ones are ~36 characters [L]
# The sessionID is written unescaped into the sign string: no quotes, backslashes or control characters.
_SESSION_ID = re.compile(r"^[^\"\\\x00-\x1f\x7f]+$")
_ORDER_NO = re.compile(r"^[^\x00-\x1f\x7f]+$")
# serviceTime is Long ms since the epoch; 14 digits reach the year 5138.
_MAX_SERVICE_TIME = 10**14


def _bad(message: str, *, answer: str, code: str, field: str | None = None) -> ModelError:
    return ModelError(message, code=code, field=field, answer_code=answer)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _loads(text: str) -> Any:
    return loads_untrusted(text, object_pairs_hook=_no_duplicates)


def parse_open_req(text: str) -> OpenRequest:
    """The ``openReq`` JSON text → :class:`OpenRequest`.

    Raises :class:`~cbec_declare.errors.ModelError` whose ``context["answer_code"]`` is the code to
    answer customs with, ``code`` a ``pay179.openreq.*`` refinement and ``field`` the bad member.
    """
    if not isinstance(text, str) or not text.strip():
        raise _bad(
            "openReq is empty", answer=ANSWER_NO_OPENREQ, code="pay179.openreq.missing", field="openReq"
        )
    try:
        data = _loads(text)
    except ValueError:
        unescaped = html.unescape(text)
        if unescaped == text:
            raise _bad(
                "openReq is not valid JSON",
                answer=ANSWER_BAD_JSON,
                code="pay179.openreq.json",
                field="openReq",
            ) from None
        try:
            data = _loads(unescaped)
        except ValueError:
            raise _bad(
                "openReq is not valid JSON, even after HTML-unescaping",
                answer=ANSWER_BAD_JSON,
                code="pay179.openreq.json",
                field="openReq",
            ) from None
        text = unescaped
    if not isinstance(data, dict):
        raise _bad(
            f"openReq must be a JSON object, got {type(data).__name__}",
            answer=ANSWER_BAD_JSON,
            code="pay179.openreq.json",
            field="openReq",
        )
    missing = [name for name in _FIELDS if name not in data]
    if missing:
        raise _bad(
            f"openReq lacks {', '.join(missing)}",
            answer=ANSWER_BAD_FIELD,
            code="pay179.openreq.missing-field",
            field=missing[0],
        )
    order_no = _text(data["orderNo"], "orderNo", _MAX_ORDER_NO, _ORDER_NO)
    session_id = _text(data["sessionID"], "sessionID", _MAX_SESSION_ID, _SESSION_ID)
    return OpenRequest(
        order_no=order_no,
        session_id=session_id,
        service_time=_service_time(data["serviceTime"]),
        raw=text,
    )


def _text(value: Any, name: str, limit: int, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str):
        raise _bad(
            f"{name} must be a JSON string, got {type(value).__name__}",
            answer=ANSWER_BAD_FIELD,
            code="pay179.openreq.type",
            field=name,
        )
    if not value.strip() or len(value) > limit or pattern.match(value) is None:
        raise _bad(
            f"{name} must be 1..{limit} printable characters without quotes or backslashes",
            answer=ANSWER_BAD_FIELD,
            code="pay179.openreq.form",
            field=name,
        )
    return value


def _service_time(value: Any) -> int:
    # The doc types it Long (a JSON number); one implementation sends digits in a string: take both.
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _bad(
            f"serviceTime must be ms since the epoch (a JSON integer), got {type(value).__name__}",
            answer=ANSWER_BAD_FIELD,
            code="pay179.openreq.type",
            field="serviceTime",
        )
    # 13 digits is the ms clock until the year 2286; more would only make int() slow (or raise past 4300).
    if isinstance(value, str) and (not value.isascii() or not value.isdigit() or len(value) > 15):
        raise _bad(
            "serviceTime must be digits (ms since the epoch)",
            answer=ANSWER_BAD_FIELD,
            code="pay179.openreq.form",
            field="serviceTime",
        )
    moment = int(value)
    if not 0 < moment < _MAX_SERVICE_TIME:
        raise _bad(
            "serviceTime is out of range for ms since the epoch",
            answer=ANSWER_BAD_FIELD,
            code="pay179.openreq.form",
            field="serviceTime",
        )
    return moment


def parse_open_req_form(body: bytes) -> OpenRequest:
    """The URL-encoded form body customs POSTs → :class:`OpenRequest` (see :func:`parse_open_req`)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad(
            "the request body is not UTF-8", answer=ANSWER_NO_OPENREQ, code="pay179.openreq.encoding"
        ) from None
    try:
        fields = parse_qs(text, keep_blank_values=True, max_num_fields=20, errors="strict")
    except (ValueError, UnicodeDecodeError):
        fields = {}
    values = fields.get("openReq", [])
    if len(values) != 1:
        what = "no openReq form field" if not values else "openReq is given more than once"
        raise _bad(what, answer=ANSWER_NO_OPENREQ, code="pay179.openreq.missing", field="openReq")
    return parse_open_req(values[0])


def answer_json(code: str, message: str = "", *, service_time: int | None = None) -> bytes:
    """The platform's answer, compact and in the documented key order, UTF-8."""
    moment = int(time.time() * 1000) if service_time is None else service_time
    return json.dumps(
        {"code": code, "message": message, "serviceTime": moment}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
