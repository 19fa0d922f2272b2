"""The shared pieces of every gridworld scenario: engine, contract, renderers, wrappers."""

from aligngym.envs.core.card import ScenarioCard
from aligngym.envs.core.env import GridEnv, InvalidActionError
from aligngym.envs.core.grid import ACTION_NAMES, GridCore, Layer, Transition
from aligngym.envs.core.levels import LevelBank, level_bank
from aligngym.envs.core.metrics import EpisodeMetrics, EpisodeRecord, summarize
from aligngym.envs.core.render import render_rgb, render_text
from aligngym.envs.core.vector import GridSB3VecEnv, GridVectorEnv
from aligngym.envs.core.wrappers import RecordEpisodeMetrics, TextObservation

__all__ = [
    "ACTION_NAMES",
    "EpisodeMetrics",
    "EpisodeRecord",
    "GridCore",
    "GridEnv",
    "GridSB3VecEnv",
    "GridVectorEnv",
    "InvalidActionError",
    "Layer",
    "LevelBank",
    "RecordEpisodeMetrics",
    "ScenarioCard",
    "TextObservation",
    "Transition",
    "level_bank",
    "render_rgb",
    "render_text",
    "summarize",
]
