"""The shared pieces of every scenario: contract, records, settings, grid engine, wrappers."""

from aligngym.envs.core.card import ScenarioCard
from aligngym.envs.core.env import GridEnv, InvalidActionError
from aligngym.envs.core.grid import ACTION_NAMES, GridCore, Layer, Transition
from aligngym.envs.core.levels import LevelBank, level_bank
from aligngym.envs.core.metrics import EpisodeMetrics, EpisodeRecord, step_contract, summarize
from aligngym.envs.core.observations import OBS_TYPES
from aligngym.envs.core.render import render_rgb, render_text
from aligngym.envs.core.scenario import Scenario
from aligngym.envs.core.settings import SettingError, check_choice, check_float, check_int
from aligngym.envs.core.vector import GridVectorEnv
from aligngym.envs.core.wrappers import RecordEpisodes, finished_episodes

__all__ = [
    "ACTION_NAMES",
    "OBS_TYPES",
    "EpisodeMetrics",
    "EpisodeRecord",
    "GridCore",
    "GridEnv",
    "GridVectorEnv",
    "InvalidActionError",
    "Layer",
    "LevelBank",
    "RecordEpisodes",
    "Scenario",
    "ScenarioCard",
    "SettingError",
    "Transition",
    "check_choice",
    "check_float",
    "check_int",
    "finished_episodes",
    "level_bank",
    "render_rgb",
    "render_text",
    "step_contract",
    "summarize",
]
