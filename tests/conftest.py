"""Shared test fixtures: where the reference material lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _shared_dir() -> Path:
    env = os.environ.get("CBEC_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [ROOT.parent / "shared", Path("/work/shared")]
    for candidate in candidates:
        if (candidate / "reference").is_dir():
            return candidate
    raise RuntimeError("the reference material (../shared) was not found; set CBEC_SHARED to its folder")


SHARED = _shared_dir()
REFERENCE = SHARED / "reference"
SAMPLES = REFERENCE / "samples"
OFFICIAL_XSD = REFERENCE / "xsd"
VECTORS = REFERENCE / "vectors"

OFFICIAL_IMPORT_XSD = {
    "2018-113": OFFICIAL_XSD / "2018-113" / "进口业务节点报文.xsd",
    "2022-05": OFFICIAL_XSD / "2022-05" / "海关跨境进口业务节点报文定义202205.xsd",
}
OFFICIAL_DXP_XSD = {
    "2018-113": OFFICIAL_XSD / "2018-113" / "终端节点报文.xsd",
    "2022-05": OFFICIAL_XSD / "2022-05" / "海关跨境终端节点报文定义202205.xsd",
}


@pytest.fixture(scope="session")
def shared() -> Path:
    return SHARED
