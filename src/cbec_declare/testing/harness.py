"""A pipeline wired to a local sandbox, all on 127.0.0.1: what the demo, the pytest plugin and the flow
tests run on.

:func:`start_harness` starts (or joins) a :class:`~cbec_declare.sandbox.Sandbox`, opens a ledger, builds a
:class:`~cbec_declare.pipeline.Pipeline` whose platform client and node transport point at the sandbox,
serves the 2.1 receipt endpoint and registers it with the sandbox, and starts a
:class:`~cbec_declare.pipeline.Worker`. Everything is real: HTTP, AES, SHA1withRSA digests, XMLDSig,
SQLite. Only customs itself is simulated.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from ..errors import ConfigError
from ..models import BaseTransfer
from ..pipeline import Pipeline, PipelineSettings, Worker, open_ledger
from ..pipeline.ledger import Ledger, SubmitResult
from ..pipeline.receipts import LedgerSeenStore, receipt_sink
from ..sandbox import LocalServer
from ..sandbox.config import SandboxConfig
from ..sandbox.credentials import SandboxCredentials
from ..sandbox.sandbox import Sandbox
from ..signing import SignatureAlgorithm, Signer, SoftwareSigner
from ..transport import RetryPolicy, SoapNodeTransport, make_wsgi_app
from .factories import Company, DocumentFactory

__all__ = ["Harness", "company_for", "start_harness", "throwaway_signer", "write_client_config"]


def throwaway_signer(
    algorithm: SignatureAlgorithm | str = SignatureAlgorithm.RSA_SHA1, **options: Any
) -> Signer:
    """A throw-away enterprise signer with a self-signed certificate (RSA-2048 or SM2)."""
    algo = SignatureAlgorithm.coerce(algorithm)
    options.setdefault("common_name", "cbec-declare sandbox enterprise")
    if not algo.is_sm2:
        options.setdefault("bits", 2048)
    return SoftwareSigner.generate(algo, **options)


def company_for(credentials: SandboxCredentials) -> Company:
    """The enterprise the sandbox expects: its send code as every enterprise code, its DXP id."""
    code = credentials.send_code
    return Company(
        ebp_code=code,
        ebc_code=code,
        agent_code=code,
        dxp_id=credentials.sender_dxp_id,
    )


@attrs.define
class Harness:
    """A running sandbox + pipeline + receipt endpoint + worker. Stop it with :meth:`stop`."""

    credentials: SandboxCredentials
    pipeline: Pipeline
    ledger: Ledger
    worker: Worker
    receiver: LocalServer
    signer: Signer
    company: Company
    sandbox: Sandbox | None = None
    workdir: Path | None = None
    _tmp: Any = None

    @property
    def receiver_url(self) -> str:
        return self.receiver.url

    def factory(self, seed: int = 0, **options: Any) -> DocumentFactory:
        """Documents this sandbox accepts (the enterprise codes of the credentials)."""
        return DocumentFactory(seed=seed, company=self.company, **options)

    def submit(self, documents: Iterable[Any]) -> list[SubmitResult]:
        return self.pipeline.submit(documents)

    def drain(self, timeout: float = 60.0) -> bool:
        """Wait until every document is final (bounded); True if they all are."""
        return self.worker.drain(timeout=timeout)

    def stop(self) -> None:
        self.worker.stop()
        self.receiver.stop()
        if self.sandbox is not None:
            self.sandbox.stop()
        self.ledger.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_harness(
    *,
    workdir: Path | str | None = None,
    sandbox_config: SandboxConfig | None = None,
    credentials: SandboxCredentials | None = None,
    signer: Signer | None = None,
    settings: PipelineSettings | None = None,
    ledger_url: str | None = None,
    threads: int = 4,
    batch: int = 20,
    receiver_port: int = 0,
    start_worker: bool = True,
    retry: RetryPolicy | None = None,
) -> Harness:
    """Start a sandbox (or use a running one: pass its ``credentials``) and a pipeline wired to it.

    With ``credentials`` of a sandbox in another process, that sandbox must already know the receiver
    URL (its ``receivers`` setting): give the matching ``receiver_port``.
    """
    tmp = None
    folder: Path | None = None
    if workdir is None and ledger_url is None:
        # Only the ledger lives here. With a ledger_url nothing is made: a worker process that is
        # killed (the crash tests) cannot clean a temporary folder up, and would leave it behind.
        tmp = tempfile.TemporaryDirectory(prefix="cbec-harness-")
        workdir = tmp.name
    if workdir is not None:
        folder = Path(workdir)
        folder.mkdir(parents=True, exist_ok=True)
        if ledger_url is None:
            ledger_url = f"sqlite:///{folder / 'ledger.sqlite3'}"
    assert ledger_url is not None  # a folder was made above when none was given
    sandbox = None
    if credentials is None:
        sandbox = Sandbox(sandbox_config or SandboxConfig()).start()
        credentials = sandbox.credentials
    signer = signer or throwaway_signer()
    ledger = open_ledger(ledger_url)
    company = company_for(credentials)
    pipeline = Pipeline(
        ledger,
        base_transfer=BaseTransfer(
            cop_code=company.ebc_code, cop_name=company.ebc_name, dxp_id=company.dxp_id
        ),
        signer=signer,
        node=SoapNodeTransport(credentials.soap_node_profile(), retry=retry),
        platform=credentials.platform_client(retry=retry),
        settings=settings or PipelineSettings(spec_version=credentials.spec_version),
    )
    receiver = credentials.receipt_receiver(receipt_sink(pipeline), seen=LedgerSeenStore(pipeline))
    server = LocalServer(make_wsgi_app(receiver), port=receiver_port, record=False).start()
    if sandbox is not None:
        sandbox.register_receiver(server.url)
    worker = Worker(pipeline, threads=threads, batch=batch)
    if start_worker:
        worker.start()
    return Harness(
        credentials=credentials,
        pipeline=pipeline,
        ledger=ledger,
        worker=worker,
        receiver=server,
        signer=signer,
        company=company,
        sandbox=sandbox,
        workdir=folder,
        tmp=tmp,
    )


@contextmanager
def harness(**options: Any) -> Iterator[Harness]:
    """``with harness() as h: ...`` — :func:`start_harness` that always stops."""
    running = start_harness(**options)
    try:
        yield running
    finally:
        running.stop()


def write_client_config(
    credentials: SandboxCredentials,
    folder: Path | str,
    *,
    signer: SoftwareSigner,
    receiver_port: int,
    ledger: str = "ledger.sqlite3",
) -> Path:
    """A complete ``cbec.toml`` for a worker talking to this sandbox (keys written next to it).

    What ``cbec-declare send|status|worker --config`` need, pointing at the sandbox's URLs, with the
    sandbox's test keys: the shape of a real deployment's config (compare ``examples/cbec.toml``).
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    if credentials.enterprise_private_key_pem is None:
        raise ConfigError("these credentials carry no enterprise private key", code="config.sandbox")
    (target / "signer.key").write_bytes(signer.private_key_pem(None))
    (target / "signer.crt").write_bytes(signer.certificate_pem())
    (target / "zjport-digest.pem").write_text(credentials.enterprise_private_key_pem, encoding="ascii")
    (target / "zjport-public.pem").write_text(credentials.platform_public_key_pem, encoding="ascii")
    for name in ("signer.key", "zjport-digest.pem"):
        (target / name).chmod(0o600)
    company = company_for(credentials)
    text = f"""# cbec-declare config for the local sandbox (test keys; never use them for real)
[base_transfer]
cop_code = "{company.ebc_code}"
cop_name = "{company.ebc_name}"
dxp_id = "{company.dxp_id}"

[signer]
type = "software"
key = "signer.key"
cert = "signer.crt"

[platform]
base_url = "{credentials.platform_url}"
send_code = "{credentials.send_code}"
aes_key = "{credentials.aes_key}"
private_key = "zjport-digest.pem"

[receiver]
host = "127.0.0.1"
port = {receiver_port}
path = "/"
aes_key = "{credentials.aes_key}"
platform_public_key = "zjport-public.pem"

[node]
transport = "soap"
endpoint = "{credentials.node_soap_url}"

[ledger]
url = "sqlite:///{ledger}"

[pipeline]
spec_version = "{credentials.spec_version}"
"""
    path = target / "cbec.toml"
    path.write_text(text, encoding="utf-8")
    return path
