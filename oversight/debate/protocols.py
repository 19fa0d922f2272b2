"""The debate protocols as oversight modules: ``oversight=debate|consultancy|direct|
full_information``.

A protocol decides who argues before the judge: two debaters (``debate``), one consultant on a
side drawn at random (``consultancy``), nobody (``direct``: the judge alone, the floor of gap
recovered) or nobody but with all the evidence shown (``full_information``: the ceiling). The
runner sets the debate scenario's ``protocol`` argument from it; the judge's accuracy is the
scenario's performance, so gap recovered is ``(debate - direct) / (full information - direct)``.
"""

from __future__ import annotations

from aligngym.envs.core.debate import PROTOCOLS, check_protocol
from aligngym.oversight.base import OversightModule

ROLES = {"direct": "floor", "full_information": "ceiling"}


class DebateProtocol(OversightModule):
    """One debate protocol (see the module docstring).

    Args:
        protocol: one of ``debate``, ``consultancy``, ``direct``, ``full_information``.
    """

    scenario_kind = "multi"

    def __init__(self, protocol: str):
        self.protocol = check_protocol(protocol)
        self.name = self.protocol
        self.role = ROLES.get(self.protocol, "method")

    @property
    def has_debaters(self) -> bool:
        """Whether debaters play under this protocol (the judge alone does not need them)."""
        return self.protocol in ("debate", "consultancy")


__all__ = ["PROTOCOLS", "DebateProtocol"]
