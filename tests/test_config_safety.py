"""check_targets on real composed configs: aligngym's own configs pass, any other `_target_`
(added by an override, nested, in a list, behind an interpolation or a Hydra lookup) is refused
with its key path."""

from __future__ import annotations

import pytest
from conftest import config_options
from hydra import compose
from omegaconf import OmegaConf

from aligngym.config_safety import ALLOWED_MODULES, UnsafeTargetError, check_targets


def refused(overrides: list[str]) -> UnsafeTargetError:
    cfg = compose("config", overrides=overrides)
    with pytest.raises(UnsafeTargetError) as error:
        check_targets(cfg)
    assert isinstance(error.value, ValueError)
    return error.value


@pytest.mark.parametrize("group", ["agent", "env", "oversight", "logger", "experiment"])
def test_every_shipped_config_passes(hydra_conf, group):
    for option in config_options(group):
        cfg = compose("config", overrides=[f"{group}={option}"])
        check_targets(cfg)


def test_hydra_config_with_its_plugins_passes(hydra_conf):
    for overrides in (["hydra/launcher=parallel"], ["hydra/sweeper=optuna_tpe"], []):
        cfg = compose("config", overrides=overrides, return_hydra_config=True)
        check_targets(cfg)


def test_a_target_added_by_an_override_is_refused_with_its_key(hydra_conf):
    override = "+agent.model.hyperparameters.x._target_=builtins.print"
    cfg = compose("config", overrides=[override])
    # without the check, instantiating the agent would call print
    assert cfg.agent.model.hyperparameters.x._target_ == "builtins.print"
    error = refused([override])
    assert "agent.model.hyperparameters.x._target_='builtins.print'" in str(error)


def test_targets_inside_lists_are_checked(hydra_conf):
    error = refused(
        ["+agent.model.callbacks=[{_target_: aligngym.agents.x}, {_target_: os.system}]"]
    )
    assert "agent.model.callbacks[1]._target_='os.system'" in str(error)


@pytest.mark.parametrize(
    "target", ["subprocess.run", "aligngym_evil.x", "torchvision.io.read_file", "print", ""]
)
def test_only_the_allowed_top_level_modules_pass(hydra_conf, target):
    error = refused([f"+env.wrapper._target_='{target}'"])
    assert f"env.wrapper._target_={target!r}" in str(error)


@pytest.mark.parametrize("module", sorted(ALLOWED_MODULES))
def test_allowed_modules_pass(hydra_conf, module):
    check_targets(compose("config", overrides=[f"+env.wrapper._target_={module}.something"]))


def test_hydra_lookups_are_checked_by_what_they_look_up(hydra_conf):
    # the cheese-maze experiment passes torch.nn.ReLU through hydra.utils.get_class
    cfg = compose("config", overrides=["experiment=goal_misgeneralisation/cheese_maze"])
    check_targets(cfg)
    lookup = "+agent.model.f={_target_: hydra.utils.get_method, path: builtins.eval}"
    assert "agent.model.f.path='builtins.eval'" in str(refused([lookup]))
    args = "+agent.model.f={_target_: hydra.utils.get_class, _args_: [os.system]}"
    assert "agent.model.f._args_[0]='os.system'" in str(refused([args]))
    # other Hydra callables are refused outside the hydra node
    call = "+agent.model.f._target_=hydra.utils.call"
    assert "agent.model.f._target_='hydra.utils.call'" in str(refused([call]))


def test_interpolations_are_resolved_before_the_check(hydra_conf):
    error = refused(["+payload=builtins.exec", "+agent.model.f._target_=${payload}"])
    assert "agent.model.f._target_='builtins.exec'" in str(error)
    # a node built by a resolver is walked too
    cfg = compose("config")
    OmegaConf.update(
        cfg, "agent.model.g", "${oc.create:{_target_: subprocess.run}}", force_add=True
    )
    with pytest.raises(UnsafeTargetError, match=r"agent\.model\.g\._target_='subprocess.run'"):
        check_targets(cfg)
