"""Seeded passages about small generated worlds, each with a two-answer question: the hidden
stories of the evidence debate.

Nothing is downloaded: a passage is drawn from a ``numpy`` generator, so the same generator
state gives the same passage. A *world* is :data:`PEOPLE_PER_WORLD` people, each with a home
town, a possession (a coloured object), a workplace and a best friend; no two people share a
value (homes, possessions and workplaces are drawn without replacement, best friends form one
cycle). A passage states facts of the world, one a sentence::

    Mira lives in Ostrava.  Tomas owns a red boat.  Ivo's best friend is Lena.

and a question asks one :class:`Relation` of one person (the *subject*): "Where does Mira
live?". Its true answer is the subject's value; its false answer is another person's value,
stated in the passage (the *anchor* sentence, "Tomas lives in Brno."). The passage also holds
*distractors*: sentences that name the subject with the false answer without stating the
asked relation ("Mira's cousin lives in Brno.", "Mira once visited Brno."), and fills up with
other facts of the world that never name the false answer.

The ``train`` and ``test`` splits draw from disjoint vocabularies (names, towns, workplaces and
objects), so no test passage is a train passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from aligngym.envs.core.settings import check_int

SPLITS = ("train", "test")
PEOPLE_PER_WORLD = 6
NAMES = {
    "train": ("Mira", "Tomas", "Ivo", "Lena", "Petra", "Oskar", "Nina", "Karel", "Alma", "Bruno",
              "Clara", "Dario"),
    "test": ("Hugo", "Irma", "Jonas", "Kira", "Luka", "Marta", "Nils", "Olga", "Pavel", "Rosa",
             "Stefan", "Vera"),
}  # fmt: skip
TOWNS = {
    "train": ("Ostrava", "Brno", "Lyon", "Porto", "Gdansk", "Bergen", "Turin", "Ghent", "Zadar",
              "Graz"),
    "test": ("Malmo", "Tartu", "Kaunas", "Cork", "Basel", "Leeds", "Aarhus", "Bilbao", "Nantes",
             "Plzen"),
}  # fmt: skip
WORKPLACES = {
    "train": ("bakery", "library", "harbour", "museum", "pharmacy", "post office", "school",
              "garage"),
    "test": ("hospital", "bookshop", "brewery", "theatre", "cinema", "town hall", "bank",
             "laundry"),
}  # fmt: skip
OBJECTS = {
    "train": ("boat", "kite", "piano", "bicycle", "lamp", "clock"),
    "test": ("guitar", "tent", "camera", "scooter", "rug", "violin"),
}
COLOURS = ("red", "blue", "green", "yellow", "black", "white", "grey", "purple")
KIN = ("cousin", "brother", "sister", "neighbour", "aunt", "uncle")
#: the passage sizes a setting may ask for
MAX_SENTENCES = 12


@dataclass(frozen=True)
class Relation:
    """One kind of fact a question may ask about.

    Attributes:
        name: ``home``, ``possession``, ``work`` or ``friend``.
        fact: the sentence stating a person's value (``{person}``, ``{value}``).
        question: the question asking it (``{person}``).
        keyword: the stem of the word that names the relation in :attr:`fact` ("live" in
            "lives"): what a keyword reader looks for.
        distractors: sentences that name the subject (``{person}``) with another value
            (``{value}``) without stating the relation; ``{kin}`` is a relative. The first
            states the relation of the subject's relative ("Mira's cousin lives in Brno."), so
            it holds the keyword too; the others do not.
    """

    name: str
    fact: str
    question: str
    keyword: str
    distractors: tuple[str, ...]

    def ask(self, person: str) -> str:
        """The question about ``person``."""
        return self.question.format(person=person)

    def state(self, person: str, value: str) -> str:
        """The sentence saying that ``person``'s value is ``value`` (true or not)."""
        return self.fact.format(person=person, value=value)

    def values(self, split: str) -> tuple[str, ...]:
        """The values this relation takes in ``split``'s vocabulary."""
        if self.name == "home":
            return TOWNS[split]
        if self.name == "possession":
            return tuple(f"{colour} {thing}" for colour in COLOURS for thing in OBJECTS[split])
        if self.name == "work":
            return WORKPLACES[split]
        return NAMES[split]


RELATIONS = (
    Relation(
        "home", "{person} lives in {value}.", "Where does {person} live?", "live",
        ("{person}'s {kin} lives in {value}.", "{person} once visited {value}.",
         "{person} was born in {value}.", "{person} often takes the train to {value}."),
    ),
    Relation(
        "possession", "{person} owns a {value}.", "What does {person} own?", "own",
        ("{person}'s {kin} owns a {value}.", "{person} once borrowed a {value}.",
         "{person} wants to buy a {value}.", "{person} saw a {value} in a shop window."),
    ),
    Relation(
        "work", "{person} works at the {value}.", "Where does {person} work?", "work",
        ("{person}'s {kin} works at the {value}.", "{person} often walks past the {value}.",
         "{person} once applied for a job at the {value}.",
         "{person} buys lunch near the {value}."),
    ),
    Relation(
        "friend", "{person}'s best friend is {value}.", "Who is {person}'s best friend?",
        "friend",
        ("{value} is a friend of {person}'s {kin}.", "{person} once argued with {value}.",
         "{person} sat next to {value} on the bus.", "{person} has met {value} twice."),
    ),
)  # fmt: skip
#: the most distractors a passage may hold (each relation's templates, used at most once)
MAX_DISTRACTORS = min(len(relation.distractors) for relation in RELATIONS)


@dataclass(frozen=True)
class Passage:
    """A passage and its question.

    Attributes:
        sentences: the passage, one fact or distractor a sentence, in the order shown.
        relation: what the question asks.
        subject: whom it asks about.
        truth: the true answer (the subject's value).
        false: the false answer (another person's value, stated in the passage).
    """

    sentences: tuple[str, ...]
    relation: Relation
    subject: str
    truth: str
    false: str

    @property
    def text(self) -> str:
        """The passage as one line, its sentences joined by spaces."""
        return " ".join(self.sentences)

    @property
    def question(self) -> str:
        return self.relation.ask(self.subject)


def check_passage_size(sentences: int, distractors: int) -> tuple[int, int]:
    """Returns ``(sentences, distractors)`` if a passage can have that many.

    A passage holds the true fact, the anchor of the false answer and the distractors.

    Raises:
        SettingError: naming the accepted range.
    """
    sentences = check_int("sentences", sentences, 2, MAX_SENTENCES)
    distractors = check_int("distractors", distractors, 0, min(MAX_DISTRACTORS, sentences - 2))
    return sentences, distractors


def generate_passage(
    rng: np.random.Generator, split: str = "train", sentences: int = 8, distractors: int = 2
) -> Passage:
    """A passage of ``sentences`` sentences, ``distractors`` of them distractors, about a new
    world of ``split``'s vocabulary (one of :data:`SPLITS`), drawn from ``rng``. The sizes are
    those :func:`check_passage_size` accepts."""
    world = _world(rng, split)
    relation = RELATIONS[int(rng.integers(len(RELATIONS)))]
    people = list(world)
    subject = people[int(rng.integers(len(people)))]
    truth = world[subject][relation.name]
    others = [p for p in people if subject not in (p, world[p][relation.name])]
    anchor = others[int(rng.integers(len(others)))]
    false = world[anchor][relation.name]
    templates = rng.choice(len(relation.distractors), size=distractors, replace=False)
    lures = [
        relation.distractors[t].format(person=subject, value=false, kin=rng.choice(KIN))
        for t in templates
    ]
    stated = [relation.state(subject, truth), relation.state(anchor, false)]
    facts = [r.state(p, world[p][r.name]) for p in people for r in RELATIONS]
    fillers = [f for f in facts if f not in stated and not names(f, false)]
    chosen = rng.choice(len(fillers), size=sentences - len(stated) - distractors, replace=False)
    passage = [*stated, *lures, *(fillers[i] for i in chosen)]
    order = rng.permutation(len(passage))
    return Passage(tuple(passage[i] for i in order), relation, subject, truth, false)


def _world(rng: np.random.Generator, split: str) -> dict[str, dict[str, str]]:
    """:data:`PEOPLE_PER_WORLD` people of ``split`` and their values, no value shared."""
    people = [str(p) for p in rng.choice(NAMES[split], PEOPLE_PER_WORLD, replace=False)]
    world: dict[str, dict[str, str]] = {person: {} for person in people}
    for relation in RELATIONS[:-1]:
        values = relation.values(split)
        for person, index in zip(people, rng.choice(len(values), len(people), replace=False)):
            world[person][relation.name] = values[index]
    cycle = rng.permutation(people)  # each one's best friend is the next in the cycle
    for person, friend in zip(cycle, np.roll(cycle, -1)):
        world[str(person)]["friend"] = str(friend)
    return world


def names(sentence: str, word: str) -> bool:
    """Whether ``sentence`` holds ``word`` (a name, a town, "red boat") as whole words."""
    return re.search(rf"\b{re.escape(word)}\b", sentence) is not None


def read_question(question: str) -> tuple[Relation, str] | None:
    """The relation and subject of a question written by :meth:`Relation.ask`, or ``None``."""
    for relation in RELATIONS:
        pattern = re.escape(relation.question).replace(re.escape("{person}"), r"(\w+)")
        match = re.fullmatch(pattern, question.strip())
        if match:
            return relation, match.group(1)
    return None


def split_sentences(text: str) -> list[str]:
    """``text``'s sentences (each ends with ``.``, ``!`` or ``?`` before a space)."""
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def _longest(words: tuple[str, ...] | list[str]) -> str:
    return max(words, key=len)


def _bound(template: str, relation: Relation) -> int:
    values = [v for split in SPLITS for v in relation.values(split)]
    longest_name = _longest([n for split in SPLITS for n in NAMES[split]])
    return len(template.format(person=longest_name, value=_longest(values), kin=_longest(KIN)))


#: the longest sentence, question and answer any passage may have (to bound text spaces)
MAX_SENTENCE_LENGTH = max(_bound(t, r) for r in RELATIONS for t in (r.fact, *r.distractors))
MAX_QUESTION_LENGTH = max(_bound(r.question, r) for r in RELATIONS)
MAX_ANSWER_LENGTH = max(_bound("{value}", r) for r in RELATIONS)
