"""``aligngym serve``: a local model behind an OpenAI-compatible API, shared by a sweep's jobs.

Load the model once, point every job at it::

    aligngym serve --model smollm2 --port 8000
    aligngym run -m env=boat_race,sycophancy_qa agent=llm agent.model.backend=http \\
        agent.model.base_url=http://127.0.0.1:8000/v1

Endpoints (FastAPI, run by uvicorn):

- ``GET /v1/models``: the one model served.
- ``POST /v1/chat/completions``: OpenAI's chat completions (``messages``, ``max_tokens``,
  ``temperature``, ``stop``), with vLLM's extensions that scoring needs:
  ``add_generation_prompt``, ``continue_final_message`` (render the last assistant message
  open, to be continued or scored) and ``prompt_logprobs`` (the log-probability of every prompt
  token, in vLLM's format: a list, ``None`` for the first token, then ``{token_id: {"logprob",
  "rank", "decoded_token"}}``).
- ``POST /v1/completions``: plain-text completions (``prompt``, a string or a list), with
  ``echo`` and ``logprobs`` returning the prompt tokens' log-probabilities as OpenAI's legacy
  API did.

Requests are served one at a time (the model is not thread-safe); a client sends several at
once and they queue. Prompt log-probabilities reuse the key-value caches of the latest prompts
(:class:`~aligngym.agents.llm.prefix_cache.PrefixCache`): a scoring request for a prompt and
an action runs the model on the action's tokens only. The server binds to the loopback
address by default: it has no authentication.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from aligngym.agents.llm.default_model import DEFAULT_MODEL
from aligngym.agents.llm.language_model import LLM_EXTRA, truncate_at_stop
from aligngym.agents.llm.prefix_cache import PrefixCache

try:
    import uvicorn
    from fastapi import FastAPI, HTTPException
    from pydantic import BaseModel, Field
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(f"aligngym serve needs fastapi and uvicorn: {LLM_EXTRA}") from error


class Message(BaseModel):
    role: str
    content: str


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[Message] = Field(min_length=1)
    max_tokens: int | None = Field(default=16, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float = Field(default=1.0, ge=0.0)
    stop: str | list[str] | None = None
    n: int = Field(default=1, ge=1, le=1)
    add_generation_prompt: bool = True
    continue_final_message: bool = False
    prompt_logprobs: int | None = Field(default=None, ge=0)


#: a prompt to complete or score: an empty one has no token to score, so the schema refuses it
#: (HTTP 422, as for every malformed field) rather than the model failing on it (HTTP 500)
Prompt = Annotated[str, Field(min_length=1)]


class CompletionRequest(BaseModel):
    model: str | None = None
    prompt: Prompt | Annotated[list[Prompt], Field(min_length=1)]
    max_tokens: int = Field(default=16, ge=0)
    temperature: float = Field(default=1.0, ge=0.0)
    stop: str | list[str] | None = None
    echo: bool = False
    logprobs: int | None = Field(default=None, ge=0)


def build_app(lm: Any) -> FastAPI:
    """The FastAPI app serving ``lm``, a
    :class:`~aligngym.agents.llm.transformers_backend.TransformersModel`."""
    app = FastAPI(title="aligngym serve", version="1")
    lock = threading.Lock()
    prefix_cache = PrefixCache(lm)

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        entry = {"id": lm.name, "object": "model", "created": 0, "owned_by": "aligngym"}
        return {"object": "list", "data": [entry]}

    @app.post("/v1/chat/completions")
    def chat(request: ChatRequest) -> dict[str, Any]:
        if request.add_generation_prompt and request.continue_final_message:
            raise HTTPException(
                400, "add_generation_prompt and continue_final_message exclude each other"
            )
        messages = [m.model_dump() for m in request.messages]
        if request.continue_final_message and messages[-1]["role"] != "assistant":
            raise HTTPException(400, "continue_final_message needs a final assistant message")
        limit = request.max_completion_tokens or request.max_tokens or 16
        stops = _stops(request.stop)
        with lock:
            text = lm.render(messages, continue_final=request.continue_final_message)
            if request.prompt_logprobs is None:
                tokens = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
                reply = lm.complete([text], limit, request.temperature, stops)[0]
            else:
                tokens, logprobs, greedy = prefix_cache.prompt_logprobs(text)
                if limit == 1 and request.temperature == 0:  # a scoring request: one pass
                    reply = truncate_at_stop(lm.decode(greedy), stops)
                else:
                    reply = lm.complete([text], limit, request.temperature, stops)[0]
        completion_tokens = len(lm.tokenizer(reply, add_special_tokens=False)["input_ids"])
        response = _response("chat.completion", lm.name, len(tokens), completion_tokens)
        response["choices"] = [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply},
                "finish_reason": "length" if completion_tokens >= limit else "stop",
            }
        ]
        if request.prompt_logprobs is not None:
            response["prompt_logprobs"] = _vllm_prompt_logprobs(lm, tokens, logprobs)
        return response

    @app.post("/v1/completions")
    def complete(request: CompletionRequest) -> dict[str, Any]:
        prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
        choices, prompt_tokens, completion_tokens = [], 0, 0
        with lock:
            for index, prompt in enumerate(prompts):
                tokens, logprobs, _ = prefix_cache.prompt_logprobs(prompt)
                reply = ""
                if request.max_tokens > 0:
                    reply = lm.complete(
                        [prompt], request.max_tokens, request.temperature, _stops(request.stop)
                    )[0]
                prompt_tokens += len(tokens)
                completion_tokens += len(lm.tokenizer(reply, add_special_tokens=False)["input_ids"])
                choice = {
                    "index": index,
                    "text": (prompt if request.echo else "") + reply,
                    "finish_reason": "length",
                    "logprobs": None,
                }
                if request.echo and request.logprobs is not None:
                    choice["logprobs"] = _openai_logprobs(lm, tokens, logprobs)
                choices.append(choice)
        response = _response("text_completion", lm.name, prompt_tokens, completion_tokens)
        response["choices"] = choices
        return response

    return app


def _response(kind: str, model: str, prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "id": f"aligngym-{uuid.uuid4().hex[:12]}",
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _stops(stop: str | list[str] | None) -> list[str]:
    return [stop] if isinstance(stop, str) else list(stop or [])


def _vllm_prompt_logprobs(lm: Any, tokens: Sequence[int], logprobs: Sequence[float]) -> list:
    entries: list[Any] = [None]
    for token, logprob in zip(tokens[1:], logprobs[1:]):
        decoded = lm.decode(token)
        entries.append({str(token): {"logprob": logprob, "rank": None, "decoded_token": decoded}})
    return entries


def _openai_logprobs(lm: Any, tokens: Sequence[int], logprobs: Sequence[float]) -> dict:
    texts = [lm.decode(token) for token in tokens]
    offsets = [sum(len(t) for t in texts[:i]) for i in range(len(texts))]
    return {
        "tokens": texts,
        "token_logprobs": [None, *logprobs[1:]],
        "top_logprobs": None,
        "text_offset": offsets,
    }


def serve(argv: Sequence[str]) -> int:
    """``aligngym serve [--model M] [--host H] [--port P] [--device D]``."""
    parser = argparse.ArgumentParser(
        prog="aligngym serve",
        description="Serves a local language model with an OpenAI-compatible API (chat and "
        "text completions with prompt log-probabilities), so that every job of a sweep shares "
        "one loaded model: agent.model.backend=http agent.model.base_url=http://HOST:PORT/v1",
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="smollm2 (default, offline), a local folder or a downloaded hub id",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    parser.add_argument("--dtype", default="auto", help="auto, float32, bfloat16, float16")
    args = parser.parse_args(argv)
    from aligngym.agents.llm.transformers_backend import TransformersModel

    try:
        lm = TransformersModel(args.model, device=args.device, dtype=args.dtype)
    except (FileNotFoundError, ValueError, ImportError) as error:
        print(f"aligngym serve: error: {error}", flush=True)
        return 2
    address = f"http://{args.host}:{args.port}/v1"
    print(f"aligngym serve: {lm.name} on {lm.device} at {address}", flush=True)
    uvicorn.run(build_app(lm), host=args.host, port=args.port, log_level="warning")
    return 0
