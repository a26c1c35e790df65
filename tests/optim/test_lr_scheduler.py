"""kernn.optim.lr_scheduler against torch.optim.lr_scheduler, epoch by epoch.

The schedulers do the same float operations in the same order as torch's, so the learning
rates must be equal bit for bit.
"""

import warnings

import numpy as np
import pytest
import torch

import kernn
from kernn.optim import SGD, Adam
from kernn.optim import lr_scheduler as ours_sched

EPOCHS = 40
LRS = (0.1, 0.03)


def make_optimizers():
    ours_params = [kernn.Tensor(np.zeros(3), requires_grad=True), kernn.Tensor(np.zeros(2), requires_grad=True)]
    theirs_params = [torch.zeros(3, requires_grad=True), torch.zeros(2, requires_grad=True)]
    ours = SGD([{"params": [ours_params[0]], "lr": LRS[0]}, {"params": [ours_params[1]], "lr": LRS[1]}], lr=LRS[0])
    theirs = torch.optim.SGD([{"params": [theirs_params[0]], "lr": LRS[0]},
                              {"params": [theirs_params[1]], "lr": LRS[1]}], lr=LRS[0])
    return ours, theirs


def halving_every_3(epoch):
    return 0.5 ** (epoch // 3)


SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("StepLR", dict(step_size=1, gamma=0.9)),
    ("MultiStepLR", dict(milestones=[5, 12, 12, 30], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.93)),
    ("CosineAnnealingLR", dict(T_max=15)),  # runs past T_max: the recursive form rises again
    ("CosineAnnealingLR", dict(T_max=40, eta_min=1e-3)),
    ("LambdaLR", dict(lr_lambda=halving_every_3)),
    ("LambdaLR", dict(lr_lambda=[halving_every_3, lambda epoch: 1.0 / (1 + epoch)])),
]


def schedule_id(schedule):
    name, options = schedule
    return name + "-" + "-".join(f"{k}={getattr(v, '__name__', v)}" for k, v in options.items())


@pytest.mark.parametrize("schedule", SCHEDULES, ids=schedule_id)
def test_learning_rates_equal_torchs_every_epoch(schedule):
    name, options = schedule
    ours_opt, theirs_opt = make_optimizers()
    ours = getattr(ours_sched, name)(ours_opt, **options)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **options)
    assert ours.get_last_lr() == theirs.get_last_lr() == list(LRS)
    for epoch in range(EPOCHS):
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr(), f"epoch {epoch + 1}"
        assert [g["lr"] for g in ours_opt.param_groups] == ours.get_last_lr()
    assert ours.last_epoch == theirs.last_epoch == EPOCHS


@pytest.mark.parametrize("schedule", [s for s in SCHEDULES if s[0] != "LambdaLR"], ids=schedule_id)
def test_closed_form_step_with_epoch_equals_torchs(schedule):
    name, options = schedule
    ours_opt, theirs_opt = make_optimizers()
    ours = getattr(ours_sched, name)(ours_opt, **options)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (3, 17, 8, 30):
            ours.step(epoch)
            theirs.step(epoch)
            assert ours.get_last_lr() == theirs.get_last_lr(), f"epoch {epoch}"


@pytest.mark.parametrize("schedule", SCHEDULES[:7], ids=schedule_id)
def test_state_dict_save_load_resumes_the_schedule(schedule, tmp_path):
    name, options = schedule
    opt, _ = make_optimizers()
    sched = getattr(ours_sched, name)(opt, **options)
    for _ in range(11):
        opt.step()
        sched.step()
    path = tmp_path / "ckpt.kn"
    kernn.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, path)
    expected = []
    for _ in range(20):
        opt.step()
        sched.step()
        expected.append(sched.get_last_lr())

    checkpoint = kernn.load(path)
    # torch's documented order: scheduler first (its constructor sets the lrs), then the
    # optimizer's state (which brings back the lrs of epoch 11), then the scheduler's state.
    resumed_opt, _ = make_optimizers()
    resumed = getattr(ours_sched, name)(resumed_opt, **options)
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    resumed.load_state_dict(checkpoint["scheduler"])
    got = []
    for _ in range(20):
        resumed_opt.step()
        resumed.step()
        got.append(resumed.get_last_lr())
    assert got == expected


def test_resuming_without_initial_lr_raises_key_error():
    opt, _ = make_optimizers()
    with pytest.raises(KeyError, match="initial_lr"):
        ours_sched.StepLR(opt, step_size=3, last_epoch=4)


def test_scheduler_step_before_optimizer_step_warns_like_torch():
    opt, _ = make_optimizers()
    sched = ours_sched.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt, _ = make_optimizers()
    sched = ours_sched.ExponentialLR(opt, gamma=0.5)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


def test_scheduler_drives_adam_updates():
    param = kernn.Tensor(np.zeros(2), requires_grad=True)
    opt = Adam([param], lr=0.1, eps=0.0)
    sched = ours_sched.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        param.grad = kernn.Tensor(np.array([1.0, -1.0]))
        opt.step()
        sched.step()
    # Constant gradient: each Adam step moves by exactly lr; lrs were 0.1, 0.05, 0.025.
    np.testing.assert_allclose(param.detach().numpy(), [-0.175, 0.175], rtol=1e-12)


def test_argument_errors():
    opt, _ = make_optimizers()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        ours_sched.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="step_size must be a positive integer, got 0"):
        ours_sched.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        ours_sched.LambdaLR(opt, lr_lambda=[halving_every_3])
    with pytest.raises(ValueError, match="T_max must be positive"):
        ours_sched.CosineAnnealingLR(opt, T_max=0)


# A validation loss that falls, stalls, wobbles within the threshold and falls again.
PLATEAU_METRICS = [1.0, 0.8, 0.7, 0.7, 0.69995, 0.71, 0.7, 0.7, 0.5, 0.5, 0.5, 0.5, 0.5, 0.49,
                   0.4905, 0.5, 0.5, 0.5, 0.5, 0.5] + [0.3] * 20


@pytest.mark.parametrize("kwargs", [
    {},
    {"patience": 1, "factor": 0.5},
    {"patience": 0, "factor": 0.3, "cooldown": 2},
    {"patience": 1, "threshold": 0.05, "threshold_mode": "abs"},
    {"mode": "max", "patience": 1, "factor": 0.5},
    {"mode": "max", "patience": 2, "threshold_mode": "abs", "threshold": 0.01},
    {"patience": 0, "factor": 0.1, "min_lr": [0.005, 0.0]},
    {"patience": 0, "factor": 0.5, "min_lr": 0.02, "eps": 1e-3},
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    ours, theirs = make_optimizers()
    ours_s = ours_sched.ReduceLROnPlateau(ours, **kwargs)
    theirs_s = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kwargs)
    sign = -1.0 if kwargs.get("mode") == "max" else 1.0
    for epoch, metric in enumerate(PLATEAU_METRICS):
        # a one-element tensor, as scripts pass the loss, every other epoch
        ours_s.step(kernn.tensor(sign * metric) if epoch % 2 else sign * metric)
        theirs_s.step(torch.tensor(sign * metric) if epoch % 2 else sign * metric)
        assert ours_s.get_last_lr() == theirs_s.get_last_lr(), epoch
        assert [g["lr"] for g in ours.param_groups] == [g["lr"] for g in theirs.param_groups]
        assert (ours_s.num_bad_epochs, ours_s.cooldown_counter, ours_s.best) == (
            theirs_s.num_bad_epochs, theirs_s.cooldown_counter, theirs_s.best)
    assert ours.param_groups[0]["lr"] < LRS[0]  # the schedule did reduce


def test_reduce_lr_on_plateau_state_dict_resumes():
    first, _ = make_optimizers()
    sched = ours_sched.ReduceLROnPlateau(first, patience=1, factor=0.5)
    for metric in PLATEAU_METRICS[:6]:
        sched.step(metric)
    state = sched.state_dict()
    assert "optimizer" not in state
    assert isinstance(sched, ours_sched.LRScheduler)  # as torch's
    second, _ = make_optimizers()
    second.load_state_dict(first.state_dict())
    resumed = ours_sched.ReduceLROnPlateau(second, patience=1, factor=0.5)
    resumed.load_state_dict(state)
    for metric in PLATEAU_METRICS[6:]:
        sched.step(metric)
        resumed.step(metric)
        assert resumed.get_last_lr() == sched.get_last_lr()
    assert sched.get_last_lr()[0] < LRS[0]


@pytest.mark.parametrize("kwargs,match", [
    ({"factor": 1.0}, "factor must be < 1.0"), ({"mode": "up"}, "mode must be"),
    ({"threshold_mode": "pct"}, "threshold_mode must be"), ({"min_lr": [0.1]}, "expected 2 min_lrs"),
])
def test_reduce_lr_on_plateau_bad_arguments(kwargs, match):
    ours, _ = make_optimizers()
    with pytest.raises(ValueError, match=match):
        ours_sched.ReduceLROnPlateau(ours, **kwargs)
