"""Outcome against process supervision: a judge fitted on a reference policy's labelled episodes
rewards the agent, either from how each episode ends (:class:`OutcomeJudge`) or step by step
(:class:`ProcessJudge`), with the same label budget."""

from aligngym.oversight.judges.module import Judge, OutcomeJudge, ProcessJudge

__all__ = ["Judge", "OutcomeJudge", "ProcessJudge"]
