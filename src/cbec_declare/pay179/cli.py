"""Plain functions behind ``cbec-declare 179 …`` (the CLI module only parses arguments and prints).

* :func:`load_config` — the ``[pay179]`` table of a TOML file → :class:`Pay179Config`;
* :func:`serve` — start the ``platDataOpen`` endpoint and its uploader → :class:`Pay179Server`;
* :func:`upload_again` — re-send an order's data with a sessionID customs gave and that is unused;
* :func:`verify_payload_file` — check a ``payExInfoStr`` file's signature → ``(ok, reason)``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs

from .._toml import load_toml
from ..errors import CbecError, ConfigError
from ..signing.certs import CertificateInput, certificate_info, load_certificate
from ..signing.pay179 import verify_payload
from .config import Pay179Config
from .models import UploadOutcome
from .server import Pay179Server
from .service import OnOutcome, Pay179Service
from .source import PaymentDataSource, PaymentLookup

__all__ = ["certificates_in", "load_config", "serve", "upload_again", "verify_payload_file"]

log = logging.getLogger("cbec_declare.pay179")

_CERT_SUFFIXES = (".cer", ".crt", ".pem", ".der")
_MAX_PAYLOAD_BYTES = 1024 * 1024  # an upload is at most ~20 kB (two 8000-character fields)


def load_config(path: str | Path, *, section: str = "pay179") -> Pay179Config:
    """Read ``[section]`` of a TOML file; relative paths in it resolve against the file's folder."""
    path = Path(path)
    document = load_toml(path)
    table = document.get(section)
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path} has no [{section}] table", code="config.pay179.missing", field=section)
    return Pay179Config.from_mapping(table, base_dir=path.resolve().parent, prefix=section)


def serve(
    config: Pay179Config,
    *,
    source: PaymentDataSource | PaymentLookup | None = None,
    on_outcome: OnOutcome | None = None,
) -> Pay179Server:
    """Start the endpoint on ``config.bind_host:bind_port`` with its background uploader; returns the
    running server (``server.url``, ``server.wait()``, ``server.stop()``)."""
    service = Pay179Service(config, source=source, on_outcome=on_outcome)
    try:
        return Pay179Server(service).start()
    except BaseException:
        service.close()
        raise


def upload_again(
    order_no: str, config: Pay179Config, *, source: PaymentDataSource | PaymentLookup | None = None
) -> UploadOutcome:
    """Re-send ``order_no``'s payment data now, with the newest sessionID customs gave for it that no
    upload used. Raises :class:`~cbec_declare.errors.PipelineError` ``pay179.session.none`` when there
    is none (customs must send a new ``openReq`` first: it refuses a reused sessionID)."""
    with Pay179Service(config, source=source) as service:
        return service.upload_again(order_no)


def certificates_in(folder: str | Path) -> dict[str, bytes]:
    """The certificates (``.cer .crt .pem .der``) in ``folder``, by certNo (lower-case hex serial)."""
    directory = Path(folder)
    if not directory.is_dir():
        raise ConfigError(f"certificate folder {directory} does not exist", code="config.pay179.cert-dir")
    found: dict[str, bytes] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in _CERT_SUFFIXES or not path.is_file():
            continue
        try:
            der = load_certificate(path.read_bytes())
        except (CbecError, OSError) as exc:
            log.warning("179: skipping %s: %s", path, exc)
            continue
        found[certificate_info(der).key_name] = der
    return found


def _payload_text(raw: bytes) -> str:
    """The ``payExInfoStr`` JSON from a file holding it as uploaded, as a JSON object with a
    ``payExInfoStr`` member (a log line), or as the URL-encoded form body."""
    text = raw.decode("utf-8-sig").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return text  # let verify_payload explain what is wrong with it
        if isinstance(data, dict) and isinstance(data.get("payExInfoStr"), str):
            inner: str = data["payExInfoStr"]
            return inner
        return text
    values = parse_qs(text, keep_blank_values=True).get("payExInfoStr", [])
    if len(values) == 1:
        return values[0]
    return text


def verify_payload_file(
    path: str | Path,
    cert_path: str | Path | None = None,
    config: Pay179Config | None = None,
    *,
    now: datetime | None = None,
) -> tuple[bool, str]:
    """Check the ``signValue`` of the ``payExInfoStr`` in ``path`` by rebuilding the sign string.

    The certificate is ``cert_path`` (PEM or DER), else the one whose serial is the payload's certNo
    in ``config.cert_dir``, else ``config.signer``'s own. Returns ``(True, what was verified)`` or
    ``(False, reason)``; a missing file is a :class:`~cbec_declare.errors.ConfigError`.
    """
    file = Path(path)
    try:
        with file.open("rb") as handle:
            raw = handle.read(_MAX_PAYLOAD_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            f"cannot read {file}: {exc.strerror}", code="config.file", field=str(file)
        ) from None
    if len(raw) > _MAX_PAYLOAD_BYTES:
        return False, f"{file} is larger than {_MAX_PAYLOAD_BYTES} bytes: not a 179 upload"
    certificate: CertificateInput | Mapping[str, CertificateInput] | None = None
    try:
        if cert_path is not None:
            try:
                certificate = load_certificate(Path(cert_path).read_bytes())
            except OSError as exc:
                raise ConfigError(
                    f"cannot read {cert_path}: {exc.strerror}", code="config.file", field=str(cert_path)
                ) from None
        elif config is not None and config.cert_dir is not None:
            certificate = dict(certificates_in(config.cert_dir))
        elif config is not None and config.signer is not None:
            certificate = config.signer.certificate
        result = verify_payload(_payload_text(raw), certificate=certificate, now=now)
    except UnicodeDecodeError:
        return False, f"{file} is not UTF-8 text"
    except ConfigError:
        raise
    except CbecError as exc:
        return False, f"{exc.code}: {exc.message}"
    info = result.certificate_info
    return True, (
        f"signature valid ({result.algorithm.value}) for sessionID {result.session_id}, certNo "
        f"{result.cert_no}, signed by {info.subject}"
    )
