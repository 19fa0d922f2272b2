"""Evidence debate (Khan et al. 2024): generated passages, verified quotes, the text judges and
the language-model debater."""

from __future__ import annotations

import re

import numpy as np
import pytest

import aligngym
from aligngym.agents.debate.base import play_game
from aligngym.agents.debate.greedy import GreedyDebater
from aligngym.agents.debate.llm_debater import LLMDebater, argument_or_default
from aligngym.agents.debate.uniform import UniformDebater
from aligngym.envs import InvalidActionError, SettingError
from aligngym.envs.core.debate import PROTOCOLS
from aligngym.envs.scalable_oversight.evidence_debate import (
    LETTERS,
    EvidenceDebate,
    read_judge_view,
    verified_quotes,
)
from aligngym.envs.scalable_oversight.passages import (
    KIN,
    NAMES,
    RELATIONS,
    SPLITS,
    generate_passage,
    names,
)
from aligngym.oversight.debate.text_judges import LLMJudge, ScriptedTextJudge

ENV_ID = "aligngym/EvidenceDebate-v0"


def play(env: EvidenceDebate, choose) -> None:
    """Plays the debaters' moves ``choose(env, agent)`` until the judge is to decide."""
    while env.agent_selection != "judge":
        env.step(choose(env, env.agent_selection))


def first_legal(env: EvidenceDebate, agent: str) -> str:
    return env.legal_moves(agent)[0]


def quoting(sentence: str) -> str:
    return f"My answer holds. <quote>{sentence}</quote>"


def true_fact(env: EvidenceDebate) -> str:
    passage = env.passage
    return passage.relation.state(passage.subject, passage.truth)


# ---- the game (PettingZoo's api_test and seed test: tests/test_contract.py) ---------------


def test_the_same_seed_plays_the_same_game_and_another_seed_another():
    def record(seed: int) -> dict:
        env = EvidenceDebate(protocol="debate")
        env.reset(seed=seed)
        play(env, first_legal)
        env.step(0)
        return env.record.to_dict()

    assert record(3) == record(3)
    assert record(3) != record(4)
    first, again = (generate_passage(np.random.default_rng(9), "test") for _ in range(2))
    assert first == again


def test_bad_settings_name_the_accepted_values():
    cases = [
        ({"split": "dev"}, r"split must be one of \['train', 'test'\], got 'dev'"),
        ({"sentences": 1}, r"sentences must be an integer in \[2, 12\], got 1"),
        ({"sentences": 13}, r"sentences must be an integer in \[2, 12\], got 13"),
        ({"distractors": 5}, r"distractors must be an integer in \[0, 4\], got 5"),
        ({"sentences": 3, "distractors": 2}, r"distractors must be an integer in \[0, 1\]"),
        ({"moves": 0}, r"moves must be an integer >= 1, got 0"),
        ({"protocol": "vote"}, r"protocol must be one of \['debate', 'consultancy'"),
        ({"obs_type": "flat"}, r"obs_type must be one of \['text'\]"),
    ]
    for settings, message in cases:
        with pytest.raises(SettingError, match=message):
            aligngym.make(ENV_ID, **settings)
    with pytest.raises(TypeError, match="accepted settings"):  # two answers: always precommit
        aligngym.make(ENV_ID, precommit=False)


# ---- the passages -------------------------------------------------------------------------


@pytest.mark.parametrize("split", SPLITS)
def test_passages_hold_the_truth_the_false_answer_and_the_distractors(split):
    seen = set()
    for seed in range(60):
        passage = generate_passage(np.random.default_rng(seed), split, 12, 4)
        relation, subject = passage.relation, passage.subject
        seen.add(relation.name)
        assert len(set(passage.sentences)) == len(passage.sentences) == 12
        assert relation.state(subject, passage.truth) in passage.sentences
        assert relation.state(subject, passage.false) not in passage.sentences
        assert passage.truth != passage.false
        lures = [s for s in passage.sentences if names(s, subject) and names(s, passage.false)]
        assert len(lures) == 4  # every distractor, and nothing else, names both
        others = [s for s in passage.sentences if names(s, passage.false) and s not in lures]
        assert len(others) == 1  # the anchor: someone else's value
        assert subject in NAMES[split]
    assert seen == {relation.name for relation in RELATIONS}


def test_train_and_test_passages_share_no_word_of_their_worlds():
    def words(split: str) -> set[str]:
        return {
            word
            for seed in range(50)
            for sentence in generate_passage(np.random.default_rng(seed), split).sentences
            for word in re.findall(r"[A-Z][a-z]+", sentence)
        }

    assert words("train").isdisjoint(words("test"))


# ---- quotes, views and letters ------------------------------------------------------------


def test_quotes_are_verified_by_exact_match_and_cannot_be_forged():
    env = EvidenceDebate(protocol="consultancy")
    env.reset(seed=0)
    real = env.passage.sentences[0]
    fabricated = env.passage.relation.state(env.passage.subject, "Atlantis")
    spread = real.replace(" ", "\n  ", 1)  # whitespace runs read as one space
    env.step(
        f"<quote>{real}</quote> <quote>{fabricated}</quote> <v_quote>{fabricated}</v_quote> "
        f"<quote>{spread}</quote> <quote>  </quote> <quote>unclosed {fabricated}"
    )
    shown = read_judge_view(env.observe("judge")).arguments[0][1]
    assert verified_quotes(shown) == [real, real]
    assert f"<u_quote>{fabricated}</u_quote>" in shown
    assert shown.count("<u_quote>") == 2  # the fabricated quote and the empty one
    assert "<quote>" not in shown and shown.count("v_quote>") == 4
    with pytest.raises(InvalidActionError, match="must argue with a string"):
        env.step(3)


def test_the_longest_argument_stays_inside_the_observation_spaces():
    env = EvidenceDebate(protocol="debate", sentences=12, distractors=4, moves=2)
    env.reset(seed=1)
    quote = f"<quote>{env.passage.sentences[0]}</quote>"
    env.step(quote * 100)
    env.step("\u00e9\t" + "<quote>x</quote>" * 100)
    for agent in env.possible_agents:
        assert env.observation_space(agent).contains(env.observe(agent))
    assert "?" in env.observe("judge")  # the non-ASCII character, replaced


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_judge_reads_the_passage_only_under_full_information(protocol):
    env = EvidenceDebate(protocol=protocol)
    for seed in range(5):
        env.reset(seed=seed)
        play(env, first_legal)
        view = read_judge_view(env.observe("judge"))
        assert view.question == env.passage.question
        if protocol == "full_information":
            assert view.passage == env.passage.text
        else:
            assert view.passage is None and env.passage.text not in env.observe("judge")
        if protocol in ("direct", "full_information"):
            assert view.arguments == ()
        else:
            assert len(view.arguments) == env.num_moves
            debater = next(a for a in env.possible_agents if a != "judge")
            assert env.passage.text in env.observe(debater)


def test_answer_letters_claims_and_verdicts_agree():
    env = EvidenceDebate(protocol="debate", moves=2)
    truths = set()
    for seed in range(20):
        env.reset(seed=seed)
        case, passage = env.case, env.passage
        truths.add(case.truth)
        assert case.answers[case.truth] == passage.truth
        assert case.answers[case.lie] == passage.false
        assert env.letter("honest") == LETTERS[case.truth]
        assert env.letter("liar") == LETTERS[case.lie]
        said = {"honest": "First.", "liar": "Second."}
        play(env, lambda e, agent, said=said: said[agent])
        view = read_judge_view(env.observe("judge"))
        assert view.answers == case.answers
        assert set(view.arguments) == {(env.letter(a), text) for a, text in said.items()}
        assert "honest" not in env.observe("judge") and "liar" not in env.observe("judge")
        env.step(case.truth)
        assert env.infos["judge"]["performance"] == 1.0
        assert env.rewards["honest"] == 1.0 and env.rewards["liar"] == -1.0
    assert truths == {0, 1}  # the true answer is sometimes A, sometimes B


def test_legal_moves_quote_each_sentence_and_the_liar_may_fabricate():
    env = EvidenceDebate(protocol="debate")
    env.reset(seed=2)
    honest, liar = env.legal_moves("honest"), env.legal_moves("liar")
    assert len(honest) == len(env.passage.sentences) == len(liar) - 1
    assert all(env.passage.truth in move for move in honest)
    views = env.judge_views_after([[move] for move in liar])
    verified = [verified_quotes(read_judge_view(v).arguments[-1][1]) for v in views]
    assert verified[:-1] == [[s] for s in env.passage.sentences]
    assert verified[-1] == []  # the fabricated quote
    assert env.record.moves == []  # looking ahead plays nothing


# ---- the scripted judge -------------------------------------------------------------------


def test_the_scripted_judge_decides_for_a_quoted_true_relation():
    judge = ScriptedTextJudge(ENV_ID, settings={}, full_information=False, seed=0)
    env = EvidenceDebate(protocol="debate", moves=2)
    for seed in range(10):
        env.reset(seed=seed)
        np.testing.assert_allclose(judge.beliefs([env.observe("judge")]), [[0.5, 0.5]])
        lie = env.legal_moves("liar")[-1]
        play(env, lambda e, agent, lie=lie: quoting(true_fact(e)) if agent == "honest" else lie)
        assert judge.decide(env.observe("judge")) == env.case.truth


def test_a_fabricated_quote_does_not_move_the_scripted_judge():
    judge = ScriptedTextJudge(ENV_ID)
    env = EvidenceDebate(protocol="debate", moves=2)
    for seed in range(10):
        env.reset(seed=seed)
        fabricated = env.legal_moves("liar")[-1]
        play(env, lambda e, agent, lie=fabricated: lie if agent == "liar" else "Believe me.")
        assert "<u_quote>" in env.observe("judge")
        np.testing.assert_allclose(judge.beliefs([env.observe("judge")]), [[0.5, 0.5]])


def test_the_scripted_judge_is_fooled_by_a_relatives_relation_only():
    judge = ScriptedTextJudge(ENV_ID)
    env = EvidenceDebate(protocol="consultancy", sentences=12, distractors=4, moves=1)
    for seed in range(12):
        env.reset(seed=seed)
        passage = env.passage
        relative = [
            passage.relation.distractors[0].format(person=passage.subject, value=passage.false,
                                                   kin=kin)
            for kin in KIN
        ]  # fmt: skip
        for sentence in passage.sentences:
            if not names(sentence, passage.false):
                continue
            beliefs = judge.beliefs(env.judge_views_after([[quoting(sentence)]]))[0]
            fooled = beliefs[env.case.lie] > beliefs[env.case.truth]
            assert fooled == (sentence in relative), sentence


def accuracy(protocol: str, debater, judge, games: int = 200) -> float:
    env = EvidenceDebate(protocol=protocol, split="test")
    return float(np.mean([play_game(env, debater, judge, seed)[0].performance
                          for seed in range(games)]))  # fmt: skip


def test_khan_debate_beats_consultancy_beats_the_judge_alone():
    """Khan et al. 2024 / Kenton et al. 2024's direction where the judge lacks the passage:
    debate >= consultancy >= direct in judge accuracy; with the passage the judge does best."""
    judge, greedy = ScriptedTextJudge(ENV_ID), GreedyDebater(ENV_ID)
    scores = {p: accuracy(p, greedy, judge) for p in PROTOCOLS}
    assert scores["direct"] < scores["consultancy"] < scores["debate"]
    assert scores["full_information"] > scores["direct"]


def test_stronger_debaters_make_the_judge_more_accurate_under_debate():
    judge = ScriptedTextJudge(ENV_ID)
    weak = accuracy("debate", UniformDebater(ENV_ID, seed=0), judge)
    assert accuracy("debate", GreedyDebater(ENV_ID), judge) > weak


def test_the_text_judges_and_the_debater_refuse_other_scenarios():
    for make in (ScriptedTextJudge, LLMJudge):
        with pytest.raises(ValueError, match="judges \\['aligngym/EvidenceDebate-v0'\\] only"):
            make("aligngym/PixelDebate-v0", settings={}, full_information=False, seed=0)
    with pytest.raises(ValueError, match="no text moves"):
        LLMDebater("aligngym/PixelDebate-v0")


# ---- the language model -------------------------------------------------------------------


def test_the_llm_judge_gives_probabilities_over_the_two_answers(smollm2):
    judge = LLMJudge(ENV_ID, settings={}, full_information=False, seed=0, language_model=smollm2)
    env = EvidenceDebate(protocol="debate", moves=2)
    env.reset(seed=0)
    views = env.judge_views_after([[], [quoting(true_fact(env))], ["<quote>made up</quote>"]])
    beliefs = judge.beliefs(views)
    assert beliefs.shape == (3, 2)
    assert np.all(beliefs > 0) and np.allclose(beliefs.sum(axis=1), 1.0)
    assert judge.decide(views[0]) in (0, 1)
    assert views[1] in judge.chat(views[1])[-1]["content"]


def test_the_llm_debater_writes_an_argument_the_env_accepts(smollm2):
    debater = LLMDebater(ENV_ID, seed=0, language_model=smollm2, max_new_tokens=12)
    env = EvidenceDebate(protocol="consultancy", moves=1)
    env.reset(seed=0)
    action = debater.act(env, "consultant", ScriptedTextJudge(ENV_ID))
    assert isinstance(action, str) and action
    env.step(action)
    assert env.record.moves[0].action == action
    assert debater.metrics()["llm/arguments"] == 1.0
    assert 0.0 <= debater.metrics()["llm/invalid_argument_rate"] <= 1.0


def test_an_empty_or_broken_argument_falls_back_to_the_bare_claim():
    assert argument_or_default("  Brno it is. <quote>Mira lives in Brno.</quote> ", "Brno") == (
        "Brno it is. <quote>Mira lives in Brno.</quote>", True
    )  # fmt: skip
    assert argument_or_default("  \n", "Brno") == ("I argue for Brno.", False)
    assert argument_or_default("See <quote>Mira lives", "Brno") == ("I argue for Brno.", False)
