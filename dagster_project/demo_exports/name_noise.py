"""How names get typed: one-character typos, nicknames, accents, case and stray whitespace."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from dagster_project.demo_exports.nicknames import ACCENTED, NICKNAMES

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class NameNoise:
    """Per-record probability of each distortion."""

    typo: float = 0.0
    nickname: float = 0.0
    accent: float = 0.0
    case: float = 0.0
    whitespace: float = 0.0


def strip_accents(text: str) -> str:
    """José -> Jose, Müller -> Muller, Straße -> Strasse."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def toggle_accent(text: str) -> str:
    """Drop the accents of a name, or add the usual ones to a name often written with them."""
    stripped = strip_accents(text)
    if stripped != text:
        return stripped
    return ACCENTED.get(text, text)


def one_character_edit(text: str, kind: int, where: float, letter: int) -> str:
    """Substitute, delete, insert or transpose one character, never the first one."""
    if len(text) < 3:
        return text
    pos = 1 + min(int(where * (len(text) - 1)), len(text) - 2)
    new = _LETTERS[letter]
    if text[pos].isupper():
        new = new.upper()
    if kind == 0:
        if new.lower() == text[pos].lower():
            new = _LETTERS[(letter + 1) % len(_LETTERS)]
        return text[:pos] + new + text[pos + 1 :]
    if kind == 1:
        return text[:pos] + text[pos + 1 :]
    if kind == 2:
        return text[:pos] + new + text[pos:]
    return text[: pos - 1] + text[pos] + text[pos - 1] + text[pos + 1 :]


def _apply(values: np.ndarray, mask: np.ndarray, change) -> None:
    for i in np.flatnonzero(mask):
        values[i] = change(i, values[i])


def distort_names(first: np.ndarray, last: np.ndarray, noise: NameNoise,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return copies of the name arrays with the distortions of `noise` applied per record."""
    n = len(first)
    first, last = first.copy(), last.copy()
    draws = rng.random((n, 6))
    choice = rng.integers(0, 1 << 30, size=(n, 3))

    def nickname(i: int, name: str) -> str:
        options = NICKNAMES.get(name)
        return options[choice[i, 0] % len(options)] if options else name

    _apply(first, draws[:, 0] < noise.nickname, nickname)
    on_first = choice[:, 1] % 2 == 0
    accent = draws[:, 1] < noise.accent
    _apply(first, accent & on_first, lambda i, name: toggle_accent(name))
    _apply(last, accent & ~on_first, lambda i, name: toggle_accent(name))

    def typo(i: int, name: str) -> str:
        return one_character_edit(name, int(choice[i, 2] % 4), float(draws[i, 5]), int(choice[i, 2] // 4 % 26))

    typo_mask = draws[:, 2] < noise.typo
    _apply(first, typo_mask & on_first, typo)
    _apply(last, typo_mask & ~on_first, typo)
    case = draws[:, 3] < noise.case
    upper = choice[:, 0] % 3 != 0
    _apply(first, case & upper, lambda i, name: name.upper())
    _apply(last, case & upper, lambda i, name: name.upper())
    _apply(first, case & ~upper, lambda i, name: name.lower())
    _apply(last, case & ~upper, lambda i, name: name.lower())
    padding = ("  {}", "{} ", " {} ")
    spaced = draws[:, 4] < noise.whitespace
    _apply(first, spaced & on_first, lambda i, name: padding[choice[i, 1] % 3].format(name))
    _apply(last, spaced & ~on_first, lambda i, name: padding[choice[i, 1] % 3].format(name))
    return first, last
