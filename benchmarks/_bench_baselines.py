"""The baselines ``hot_path.py`` compares the library with: what a straightforward implementation does.

* :func:`tree_build` — the message model as an lxml tree, one ``etree.SubElement`` per field, from the
  same model metadata the library's builder reads (so the tree is the same document: ``hot_path.py``
  checks that its C14N equals :func:`cbec_declare.messages.build`'s bytes).
* :class:`SignXmlPipeline` — xmlschema validation and signxml 5 signing/verifying configured for the
  customs profile (RSA-SHA1, SHA-1, C14N 1.0, only the enveloped-signature transform, KeyName + X509
  certificate): the ``check_deprecated_methods`` subclass of toolchain.md §3, since signxml refuses SHA-1
  otherwise.
* :class:`XmlSec1` — the ``xmlsec1`` command (xmlsec 1.2, OpenSSL): ``--sign`` with a template holding
  the same empty ``ds:Signature``, ``--verify`` with the certificate as the trusted one. One process per
  message: the fork/exec and file I/O are part of what it costs.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from lxml import etree

from cbec_declare._xml import CEB_NS, XSI_NS
from cbec_declare.envelope import wrap
from cbec_declare.messages._compiled import CompiledEntity, compiled
from cbec_declare.messages.writer import format_value
from cbec_declare.models._spec import ChildSpec, FieldSpec
from cbec_declare.signing import SoftwareSigner

__all__ = ["DS_NS", "SignXmlPipeline", "XmlSec1", "tree_build"]

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
_NSMAP = {"ceb": CEB_NS, "xsi": XSI_NS}


def _fill(parent: Any, obj: Any, plan: CompiledEntity) -> None:
    for slot in plan.slots:
        value = getattr(obj, slot.attr)
        spec = slot.spec
        if isinstance(spec, ChildSpec):
            assert slot.child is not None
            items = value if spec.many else (() if value is None else (value,))
            for item in items:
                holder = etree.SubElement(parent, f"{{{CEB_NS}}}{spec.wrapper}") if spec.wrapper else parent
                _fill(etree.SubElement(holder, f"{{{CEB_NS}}}{spec.element}"), item, slot.child)
        elif value is not None:
            assert isinstance(spec, FieldSpec)
            etree.SubElement(parent, f"{{{CEB_NS}}}{spec.element}").text = format_value(value, spec)


def tree_build(message: Any) -> Any:
    """The message as an lxml tree, built element by element."""
    plan = compiled(type(message))
    root = etree.Element(f"{{{CEB_NS}}}{plan.element}", nsmap=_NSMAP)
    for slot in plan.attributes:
        root.set(slot.spec.element, getattr(message, slot.attr))
    _fill(root, message, plan)
    return root


class SignXmlPipeline:
    """build tree → signxml sign → xmlschema validate (the signed tree) → serialise → wrap; and verify."""

    def __init__(self, schema_file: Path, signer: SoftwareSigner) -> None:
        import xmlschema
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from signxml.algorithms import (
            CanonicalizationMethod,
            DigestAlgorithm,
            SignatureConstructionMethod,
            SignatureMethod,
        )
        from signxml.signer import XMLSigner
        from signxml.verifier import SignatureConfiguration, XMLVerifier

        class CustomsSigner(XMLSigner):
            def check_deprecated_methods(self) -> None:  # SHA-1 is what customs requires
                pass

        self.schema = xmlschema.XMLSchema(str(schema_file))
        self.signer = CustomsSigner(
            method=SignatureConstructionMethod.enveloped,
            signature_algorithm=SignatureMethod.RSA_SHA1,
            digest_algorithm=DigestAlgorithm.SHA1,
            c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
        )
        self.verifier = XMLVerifier()
        self.config = SignatureConfiguration(
            signature_methods=frozenset({SignatureMethod.RSA_SHA1}),
            digest_algorithms=frozenset({DigestAlgorithm.SHA1}),
            require_x509=True,
            expect_references=1,
        )
        key = serialization.load_pem_private_key(signer.private_key_pem(None), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        self.key = key
        self.cert_pem = signer.certificate_pem().decode("ascii")
        self.key_name = signer.key_name

    def sign(self, root: Any) -> Any:
        return self.signer.sign(
            root,
            key=self.key,
            cert=self.cert_pem,
            key_name=self.key_name,
            exclude_c14n_transform_element=True,
        )

    def validate(self, root: Any) -> None:
        self.schema.validate(root)

    def serialise_and_wrap(self, root: Any, sender_id: str, cop_msg_id: str) -> bytes:
        data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return wrap(data, sender_id=sender_id, cop_msg_id=cop_msg_id)

    def declare(self, message: Any, sender_id: str) -> bytes:
        signed = self.sign(tree_build(message))
        self.validate(signed)
        return self.serialise_and_wrap(signed, sender_id, message.guid)

    def verify(self, signed: bytes) -> Any:
        return self.verifier.verify(signed, x509_cert=self.cert_pem, expect_config=self.config)


_TEMPLATE = (
    f'<ds:Signature xmlns:ds="{DS_NS}"><ds:SignedInfo>'
    '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
    f'<ds:SignatureMethod Algorithm="{DS_NS}rsa-sha1"/><ds:Reference URI=""><ds:Transforms>'
    f'<ds:Transform Algorithm="{DS_NS}enveloped-signature"/></ds:Transforms>'
    f'<ds:DigestMethod Algorithm="{DS_NS}sha1"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>'
    "<ds:SignatureValue/><ds:KeyInfo><ds:KeyName/><ds:X509Data><ds:X509Certificate/></ds:X509Data>"
    "</ds:KeyInfo></ds:Signature>"
).encode("ascii")


class XmlSec1:
    """The ``xmlsec1`` command, one process per message, in a private temporary folder."""

    def __init__(self, signer: SoftwareSigner) -> None:
        command = shutil.which("xmlsec1")
        if command is None:
            raise FileNotFoundError("xmlsec1")
        self.command = command
        self._tmp = tempfile.TemporaryDirectory(prefix="cbec-xmlsec1-")
        folder = Path(self._tmp.name)
        self.key, self.cert = folder / "key.pem", folder / "cert.pem"
        self.key.write_bytes(signer.private_key_pem(None))
        self.cert.write_bytes(signer.certificate_pem())
        self.template, self.signed, self.incoming = folder / "t.xml", folder / "s.xml", folder / "v.xml"
        self.key_name = signer.key_name

    @staticmethod
    def available() -> bool:
        return shutil.which("xmlsec1") is not None

    def sign(self, unsigned: bytes) -> bytes:
        """Insert the template before the root's end tag, ``xmlsec1 --sign``, read the result."""
        end = unsigned.rindex(b"</")
        self.template.write_bytes(unsigned[:end] + _TEMPLATE + unsigned[end:])
        subprocess.run(
            [self.command, "--sign", f"--privkey-pem:{self.key_name}", f"{self.key},{self.cert}",
             "--output", str(self.signed), str(self.template)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        return self.signed.read_bytes()

    def verify(self, signed: bytes) -> None:
        self.incoming.write_bytes(signed)
        subprocess.run(
            [self.command, "--verify", "--trusted-pem", str(self.cert), str(self.incoming)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def close(self) -> None:
        self._tmp.cleanup()
