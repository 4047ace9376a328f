"""Property-based fuzzing of every parser: arbitrary bytes, and structured mutations of valid documents
(the corpus, the official samples, built messages, pushes), may only be accepted or refused with a
CbecError — never any other exception.

Crashes already recorded as bugs (``targets.KNOWN_BUGS``, each with a strict-xfail test) count as
refusals here, so that these properties keep looking for new ones.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.fuzz_support import mutations, outcome, targets

NAMES = sorted(targets.TARGETS)
SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
SEEDS = {name: [data for _, data in targets.seeds(name)] for name in NAMES}
#: fewer examples where one input is expensive (XSD validation, RSA signing)
EXAMPLES = {"validate": 120, "verify": 160, "push": 200}


def test_every_target_has_seeds() -> None:
    assert all(len(SEEDS[name]) >= 5 for name in NAMES), {n: len(s) for n, s in SEEDS.items()}


@pytest.mark.parametrize("name", NAMES)
def test_arbitrary_bytes_get_a_typed_answer(name: str) -> None:
    @settings(SETTINGS, max_examples=EXAMPLES.get(name, 400) // 2)
    @given(st.binary(max_size=4096))
    def check(data: bytes) -> None:
        outcome(name, data)

    check()


@pytest.mark.parametrize("name", NAMES)
def test_mutated_documents_get_a_typed_answer(name: str) -> None:
    @settings(SETTINGS, max_examples=EXAMPLES.get(name, 400))
    @given(mutations(SEEDS[name]))
    def check(data: bytes) -> None:
        outcome(name, data)

    check()


@pytest.mark.parametrize("name", NAMES)
def test_every_seed_gets_a_typed_answer(name: str) -> None:
    """The seeds themselves (the whole corpus and the samples): a deterministic floor under the
    random search."""
    results = {outcome(name, data) for data in SEEDS[name]}
    assert results <= {"ok", "refused", "known"}
    assert "ok" in results, f"no seed of {name} is accepted: the target may be broken"
