"""``init`` refuses a passphrase a guesser would find quickly, says why in the reader's language,
and writes nothing; a strong one makes the identity as before."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import zxcvbn.feedback

from conftest import PASSPHRASE, run_cli
from evidencekit._internal import keys
from evidencekit.errors import UserError
from evidencekit.i18n import catalog


@pytest.mark.parametrize("weak, why", [
    ("dragon", "it is one of the most used passwords"),
    ("elephant1", "it is a common password or word with a small change, such as a number"),
    ("photosynthesis", "it is a single word from the dictionary"),
    ("jennifer", "it is built on a common name"),
    ("sdfghjkl", "it is a row or pattern of neighbouring keys"),
    ("aaaaaaaa", "it repeats a character or a short piece"),
    ("abcdefgh", "it is a run such as abc or 6543"),
    ("11/11/1990", "it rests on a date or a year"),
    ("Passord123", "it is too short or too predictable"),
])
def test_weak_passphrase_refused(home: Path, weak: str, why: str) -> None:
    result = run_cli("init", "--kdf", "interactive", env={"EVIDENCEKIT_PASSPHRASE": weak})
    assert result.code == 2, result.out + result.err
    assert result.err.strip() == f"This passphrase would be guessed quickly: {why}. Use four or more unrelated words."
    assert result.out == ""
    assert not home.exists()  # refused before the locker is made: nothing written


def test_weak_passphrase_refused_in_bokmal(home: Path) -> None:
    result = run_cli("--lang", "nb", "init", env={"EVIDENCEKIT_PASSPHRASE": "dragon"})
    assert result.code == 2
    assert result.err.strip() == ("Denne passordfrasen ville blitt gjettet raskt: den er et av de mest brukte "
                                  "passordene. Bruk fire eller flere ord som ikke hører sammen.")
    assert not home.exists()


def test_strong_passphrase_accepted(home: Path) -> None:
    made = run_cli("init", "--kdf", "interactive", env={"EVIDENCEKIT_PASSPHRASE": "lantern otter quarry velvet"})
    assert made.code == 0, made.err
    assert "Your identity key is ready" in made.out
    assert run_cli("case", "new", "Strong", env={"EVIDENCEKIT_PASSPHRASE": "lantern otter quarry velvet"}).code == 0


def test_the_suite_passphrase_is_strong() -> None:
    keys.require_strong_passphrase(PASSPHRASE)  # every fixture's locker is made with it


def test_a_strong_part_makes_a_long_passphrase_strong() -> None:
    keys.require_strong_passphrase("password" * 9 + " violet tractor lumen quay")


def test_a_long_weak_passphrase_is_judged_in_bounded_time() -> None:
    """zxcvbn's matching grows steeply with length; a pasted megabyte must not hang ``init``."""
    with pytest.raises(UserError) as refused:
        keys.require_strong_passphrase("a" * 1_000_000)
    assert refused.value.key == "keys.weak_passphrase_repeat"


def test_empty_passphrase() -> None:
    with pytest.raises(UserError) as refused:
        keys.require_strong_passphrase("")
    assert refused.value.key == "keys.empty_passphrase"


def test_every_mapped_warning_is_zxcvbns_and_has_a_sentence() -> None:
    """Our map reads zxcvbn's English warnings: a renamed one would quietly fall back to the generic sentence."""
    source = inspect.getsource(zxcvbn.feedback).replace("' \\\n                        '", "")
    for warning, key in keys._WHY_WEAK.items():
        assert warning in source, warning
        domain, _, name = key.partition(".")
        assert name in catalog("en", domain) and name in catalog("nb", domain), key
