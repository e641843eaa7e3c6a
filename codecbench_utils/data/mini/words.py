"""Sentences for the mini corpus's speech: a bank built from word lists, each sentence used once."""

from __future__ import annotations

import logging
import math

logger = logging.getLogger(__name__)

# Sentence bank: "<det> <adj> <noun> <verb> <det> <noun> <place>", drawn from a
# permutation of all combinations, so sentence(i) is distinct for every i < ~10^7.
_DETS = ("the", "a", "my", "our", "that", "every")
_ADJS = (
    "quiet",
    "old",
    "young",
    "happy",
    "tired",
    "clever",
    "little",
    "brave",
    "lazy",
    "busy",
    "gentle",
    "angry",
    "small",
    "green",
    "silver",
    "hungry",
)
_NOUNS = (
    "farmer",
    "teacher",
    "doctor",
    "dog",
    "cat",
    "sailor",
    "child",
    "baker",
    "pilot",
    "singer",
    "horse",
    "rabbit",
    "kettle",
    "garden",
    "window",
    "letter",
    "basket",
    "engine",
    "candle",
    "ladder",
    "bottle",
    "jacket",
    "pencil",
    "carpet",
)
_VERBS = (
    "found",
    "painted",
    "carried",
    "watched",
    "opened",
    "cleaned",
    "dropped",
    "lifted",
    "followed",
    "didn't see",
    "can't find",
    "won't move",
    "bought",
    "fixed",
    "pushed",
    "noticed",
)
_PLACES = (
    "near the river",
    "in the morning",
    "behind the house",
    "after dinner",
    "on the hill",
    "at the station",
    "under the bridge",
    "before the storm",
    "in the kitchen",
    "by the sea",
    "every sunday",
    "at midnight",
)
_SENTENCE_RADIX = (len(_DETS), len(_ADJS), len(_NOUNS), len(_VERBS), len(_DETS), len(_NOUNS), len(_PLACES))
_SENTENCE_TOTAL = math.prod(_SENTENCE_RADIX)

#: Sentences of the emotion set per language, without diacritics.
_LANG_SENTENCES: dict[str, tuple[str, ...]] = {
    "de": (
        "der hund spielt im garten",
        "ich trinke gern kaffee am morgen",
        "das wetter ist heute gut",
        "wir fahren morgen in die stadt",
        "die kinder lesen ein buch",
        "mein bruder kocht das essen",
        "der zug kommt um acht uhr",
        "sie singt ein altes lied",
        "das fenster ist offen",
        "wir gehen zusammen spazieren",
        "die katze schlaeft auf dem sofa",
        "er arbeitet in einer bank",
    ),
    "fr": (
        "le chat dort sur le canape",
        "nous allons au marche demain",
        "il fait beau aujourd'hui",
        "elle lit un livre dans le jardin",
        "le train arrive a huit heures",
        "mon frere prepare le diner",
        "les enfants jouent dans le parc",
        "je bois un cafe le matin",
        "la porte est ouverte",
        "ils chantent une vieille chanson",
        "le soleil brille sur la mer",
        "tu travailles a la banque",
    ),
    "es": (
        "el perro juega en el jardin",
        "vamos al mercado manana",
        "hoy hace buen tiempo",
        "ella lee un libro en casa",
        "el tren llega a las ocho",
        "mi hermano prepara la cena",
        "los ninos juegan en el parque",
        "bebo un cafe por la manana",
        "la ventana esta abierta",
        "cantan una cancion antigua",
        "el sol brilla sobre el mar",
        "trabajas en el banco",
    ),
}


# ---------------------------------------------------------------- text
def normalize_text(text: str) -> str:
    """Lowercase letters a-z, apostrophe and single spaces (the ASR probe's character set).

    Examples
    --------
    >>> normalize_text("The  Dog's  BALL, again!")
    "the dog's ball again"
    """
    kept = "".join(c if ("a" <= c <= "z" or c == "'") else " " for c in text.lower())
    return " ".join(kept.split())


def sentence(index: int) -> str:
    """The ``index``-th sentence of the English bank (distinct for every index below ~10^7).

    Indices go through an affine permutation of all word combinations, so
    neighbouring indices give unrelated sentences.

    Examples
    --------
    >>> sentence(0) != sentence(1)
    True
    >>> sentence(3) == normalize_text(sentence(3))
    True
    """
    if index < 0:
        raise ValueError(f"sentence index must be >= 0, got {index}")
    k = (index * _SENTENCE_STRIDE + 12345) % _SENTENCE_TOTAL
    digits = []
    for r in _SENTENCE_RADIX:
        k, d = divmod(k, r)
        digits.append(d)
    det1, adj, noun1, verb, det2, noun2, place = digits
    first = "an" if _DETS[det1] == "a" and _ADJS[adj][0] in "aeiou" else _DETS[det1]
    second = "an" if _DETS[det2] == "a" and _NOUNS[noun2][0] in "aeiou" else _DETS[det2]
    words = [first, _ADJS[adj], _NOUNS[noun1], _VERBS[verb], second, _NOUNS[noun2], _PLACES[place]]
    return normalize_text(" ".join(words))


def _coprime_stride(total: int, start: int = 7_919_993) -> int:
    """A multiplier coprime with ``total`` (so ``i -> i * stride mod total`` is a permutation)."""
    s = start
    while math.gcd(s, total) != 1:
        s += 1
    return s


_SENTENCE_STRIDE = _coprime_stride(_SENTENCE_TOTAL)
