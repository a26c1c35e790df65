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


def shrink_by_epoch(epoch):
    return 0.99 - 0.01 * (epoch % 4)


# Schedulers whose constructors take only the optimizer and options.
NEWER_SCHEDULES = [
    ("MultiplicativeLR", dict(lr_lambda=shrink_by_epoch)),
    ("ConstantLR", dict()),
    ("ConstantLR", dict(factor=0.25, total_iters=9)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.7, total_iters=12)),
    ("PolynomialLR", dict(total_iters=30, power=2.0)),
    ("PolynomialLR", dict()),
    ("CosineAnnealingWarmRestarts", dict(T_0=7)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=1e-3)),
]
SCHEDULES += NEWER_SCHEDULES


def schedule_id(schedule):
    name, options = schedule
    return name + "-" + "-".join(f"{k}={getattr(v, '__name__', v)}" for k, v in options.items())


def step_side_by_side(ours, theirs, ours_opt, theirs_opt, epochs, first_epoch=1):
    """Steps both optimizers and then both schedulers, epoch by epoch: the learning rates, as
    the schedulers report them and as the optimizers hold them, must be equal every epoch."""
    assert ours.get_last_lr() == theirs.get_last_lr()
    for epoch in range(first_epoch, first_epoch + epochs):
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr(), f"epoch {epoch}"
        assert [g["lr"] for g in ours_opt.param_groups] == [g["lr"] for g in theirs_opt.param_groups]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=schedule_id)
def test_learning_rates_equal_torchs_every_epoch(schedule):
    name, options = schedule
    ours_opt, theirs_opt = make_optimizers()
    ours = getattr(ours_sched, name)(ours_opt, **options)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **options)
    step_side_by_side(ours, theirs, ours_opt, theirs_opt, EPOCHS)
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


@pytest.mark.parametrize("schedule", SCHEDULES[:7] + NEWER_SCHEDULES, ids=schedule_id)
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


@pytest.mark.parametrize("schedule", SCHEDULES, ids=schedule_id)
def test_last_epoch_resumes_like_torch(schedule):
    name, options = schedule
    ours_opt, theirs_opt = make_optimizers()
    for opt in (ours_opt, theirs_opt):
        for group, initial_lr in zip(opt.param_groups, (0.5, 0.2)):
            group["initial_lr"] = initial_lr
    ours = getattr(ours_sched, name)(ours_opt, last_epoch=7, **options)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, last_epoch=7, **options)
    assert ours.last_epoch == theirs.last_epoch == 8
    step_side_by_side(ours, theirs, ours_opt, theirs_opt, 20, first_epoch=9)


def test_cosine_warm_restarts_fractional_epochs_equal_torchs():
    # step(epoch) with an epoch per batch, as its documentation shows: no deprecation warning.
    for options in (dict(T_0=4), dict(T_0=2, T_mult=3, eta_min=0.01)):
        ours_opt, theirs_opt = make_optimizers()
        ours = ours_sched.CosineAnnealingWarmRestarts(ours_opt, **options)
        theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs_opt, **options)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for epoch in [0.25 * i for i in range(60)] + [3, 17.5, 1]:
                ours_opt.step()
                ours.step(epoch)
                theirs.step(epoch)
                assert ours.get_last_lr() == theirs.get_last_lr(), (options, epoch)
                assert (ours.T_cur, ours.T_i, ours.last_epoch) == (theirs.T_cur, theirs.T_i, theirs.last_epoch)


def momentum_optimizers(kind, lrs=LRS):
    """kernn and torch optimizers of one kind over the same parameters, two groups."""
    def groups(params):
        return [{"params": [params[0]], "lr": lrs[0]}, {"params": [params[1]], "lr": lrs[1]}]
    ours_params = [kernn.Tensor(np.zeros(3), requires_grad=True), kernn.Tensor(np.zeros(2), requires_grad=True)]
    theirs_params = [torch.zeros(3, requires_grad=True), torch.zeros(2, requires_grad=True)]
    if kind == "SGD":
        return SGD(groups(ours_params), momentum=0.9), torch.optim.SGD(groups(theirs_params), momentum=0.9)
    return Adam(groups(ours_params), betas=(0.9, 0.99)), torch.optim.Adam(groups(theirs_params), betas=(0.9, 0.99))


def momenta(opt):
    return [g["betas"] if "betas" in g else g["momentum"] for g in opt.param_groups]


ONE_CYCLE_OPTIONS = [
    dict(max_lr=0.5, total_steps=40),
    dict(max_lr=[0.5, 0.2], epochs=4, steps_per_epoch=9, anneal_strategy="linear",
         base_momentum=[0.8, 0.7], max_momentum=0.9),
    dict(max_lr=1.0, total_steps=31, pct_start=0.25, three_phase=True, div_factor=10.0,
         final_div_factor=100.0),
    dict(max_lr=0.3, total_steps=20, cycle_momentum=False),
]


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("options", ONE_CYCLE_OPTIONS, ids=str)
def test_one_cycle_lrs_and_momenta_equal_torchs_every_step(kind, options):
    ours_opt, theirs_opt = momentum_optimizers(kind)
    ours = ours_sched.OneCycleLR(ours_opt, **options)
    theirs = torch.optim.lr_scheduler.OneCycleLR(theirs_opt, **options)
    total = theirs.total_steps
    for step in range(total):
        assert ours.get_last_lr() == theirs.get_last_lr(), f"step {step}"
        assert momenta(ours_opt) == momenta(theirs_opt), f"step {step}"
        if step < total - 1:
            ours_opt.step()
            theirs_opt.step()
            ours.step()
            theirs.step()
    for key in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
        assert [g.get(key) for g in ours_opt.param_groups] == [g.get(key) for g in theirs_opt.param_groups]
    with pytest.raises(ValueError, match=f"OneCycleLR: tried to step {total + 1} times; the specified "
                                         f"number of total steps is {total}"):
        ours.step()
        ours.step()


def test_one_cycle_state_dict_resumes_the_cycle():
    def make():
        opt, _ = momentum_optimizers("SGD")
        return opt, ours_sched.OneCycleLR(opt, max_lr=0.4, total_steps=30)

    opt, sched = make()
    for _ in range(12):
        opt.step()
        sched.step()
    saved = (opt.state_dict(), sched.state_dict())
    expected = []
    for _ in range(15):
        opt.step()
        sched.step()
        expected.append((sched.get_last_lr(), momenta(opt)))
    opt, sched = make()
    opt.load_state_dict(saved[0])
    sched.load_state_dict(saved[1])
    got = []
    for _ in range(15):
        opt.step()
        sched.step()
        got.append((sched.get_last_lr(), momenta(opt)))
    assert got == expected


def sequential(module, opt):
    return module.SequentialLR(opt, [module.LinearLR(opt, start_factor=0.2, total_iters=5),
                                     module.ExponentialLR(opt, gamma=0.9)], milestones=[5])


def sequential_of_three(module, opt):
    return module.SequentialLR(opt, [module.ConstantLR(opt, factor=0.5, total_iters=2),
                                     module.CosineAnnealingLR(opt, T_max=6, eta_min=0.001),
                                     module.StepLR(opt, step_size=4, gamma=0.5)], milestones=[3, 12])


def chained(module, opt):
    return module.ChainedScheduler([module.ConstantLR(opt, factor=0.1, total_iters=3),
                                    module.ExponentialLR(opt, gamma=0.9)])


def chained_in_sequential(module, opt):
    inner = module.ChainedScheduler([module.LinearLR(opt, start_factor=0.5, total_iters=4),
                                     module.MultiStepLR(opt, milestones=[2, 6], gamma=0.5)], optimizer=opt)
    # SequentialLR steps its first scheduler at construction, and a ChainedScheduler steps its
    # own before any optimizer step: torch warns about the order, and so does kernn
    with pytest.warns(UserWarning, match=r"before `optimizer\.step\(\)`"):
        return module.SequentialLR(opt, [inner, module.PolynomialLR(opt, total_iters=10)],
                                   milestones=[8])


COMPOSITE_SCHEDULES = [sequential, sequential_of_three, chained, chained_in_sequential]


@pytest.mark.parametrize("build", COMPOSITE_SCHEDULES, ids=lambda f: f.__name__)
def test_sequential_and_chained_schedules_equal_torchs_every_epoch(build):
    ours_opt, theirs_opt = make_optimizers()
    ours = build(ours_sched, ours_opt)
    theirs = build(torch.optim.lr_scheduler, theirs_opt)
    step_side_by_side(ours, theirs, ours_opt, theirs_opt, EPOCHS)


@pytest.mark.parametrize("build", COMPOSITE_SCHEDULES, ids=lambda f: f.__name__)
def test_sequential_and_chained_state_dicts_resume_the_schedule(build):
    opt, _ = make_optimizers()
    sched = build(ours_sched, opt)
    for _ in range(7):
        opt.step()
        sched.step()
    saved = (opt.state_dict(), sched.state_dict())
    assert len(saved[1]["_schedulers"]) == len(sched._schedulers)
    expected = []
    for _ in range(20):
        opt.step()
        sched.step()
        expected.append(sched.get_last_lr())
    resumed_opt, _ = make_optimizers()
    resumed = build(ours_sched, resumed_opt)
    resumed_opt.load_state_dict(saved[0])
    resumed.load_state_dict(saved[1])
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
    with pytest.raises(TypeError, match="MultiplicativeLR: lr_lambda should be a function, but got float"):
        ours_sched.MultiplicativeLR(opt, lr_lambda=0.9)
    with pytest.raises(ValueError, match="ConstantLR: factor must be between 0 and 1, got 1.5"):
        ours_sched.ConstantLR(opt, factor=1.5)
    with pytest.raises(ValueError, match="LinearLR: start_factor must be greater than 0 and at most 1, got 0"):
        ours_sched.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="LinearLR: end_factor must be between 0 and 1, got -0.1"):
        ours_sched.LinearLR(opt, end_factor=-0.1)
    with pytest.raises(ValueError, match="CosineAnnealingWarmRestarts: expected a positive integer T_0, got 2.5"):
        ours_sched.CosineAnnealingWarmRestarts(opt, T_0=2.5)
    with pytest.raises(ValueError, match="CosineAnnealingWarmRestarts: expected an integer T_mult >= 1, got 0"):
        ours_sched.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="CosineAnnealingWarmRestarts: expected a non-negative epoch, got -1"):
        ours_sched.CosineAnnealingWarmRestarts(opt, T_0=2).step(-1)
    with pytest.raises(ValueError, match="OneCycleLR: you must define either total_steps"):
        ours_sched.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="OneCycleLR: expected a positive integer total_steps, got 0"):
        ours_sched.OneCycleLR(opt, max_lr=0.1, total_steps=0)
    with pytest.raises(ValueError, match="OneCycleLR: expected a float between 0 and 1 pct_start, got 1.5"):
        ours_sched.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="OneCycleLR: anneal_strategy must be one of 'cos' or 'linear', got 'step'"):
        ours_sched.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="step")
    with pytest.raises(ValueError, match="OneCycleLR: max_lr must have one value per parameter group: it has 3"):
        ours_sched.OneCycleLR(opt, max_lr=[0.1] * 3, total_steps=10)
    no_momentum = kernn.optim.Adadelta([kernn.Tensor(np.zeros(2), requires_grad=True)])
    with pytest.raises(ValueError, match="OneCycleLR: cycle_momentum=True needs an optimizer with momentum or betas; Adadelta"):
        ours_sched.OneCycleLR(no_momentum, max_lr=0.1, total_steps=10)
    other, _ = make_optimizers()
    with pytest.raises(ValueError, match="SequentialLR expects one milestone fewer than schedulers"):
        ours_sched.SequentialLR(opt, [ours_sched.ConstantLR(opt)], milestones=[3])
    with pytest.raises(ValueError, match="SequentialLR expects all schedulers to belong to the same optimizer"):
        ours_sched.SequentialLR(opt, [ours_sched.ConstantLR(opt), ours_sched.ConstantLR(other)], milestones=[3])
    with pytest.raises(ValueError, match="ChainedScheduler does not support ReduceLROnPlateau"):
        ours_sched.ChainedScheduler([ours_sched.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="ChainedScheduler expects at least one scheduler"):
        ours_sched.ChainedScheduler([])
    with pytest.raises(TypeError, match="SequentialLR: the scheduler at index 0 \\(object\\) has no `optimizer`"):
        ours_sched.SequentialLR(opt, [object()], milestones=[])


def test_argument_errors_found_by_the_second_sweep():
    opt, _ = make_optimizers()
    # NaN passed `pct_start < 0 or pct_start > 1` and made every learning rate NaN.
    with pytest.raises(ValueError, match="OneCycleLR: expected a float between 0 and 1 pct_start, got nan"):
        ours_sched.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=float("nan"))
    for name in ("div_factor", "final_div_factor"):
        for bad in (0.0, float("nan"), -10.0):  # 0: ZeroDivisionError; NaN: NaN learning rates
            with pytest.raises(ValueError, match=f"OneCycleLR: {name} must be positive, got"):
                ours_sched.OneCycleLR(opt, max_lr=0.1, total_steps=10, **{name: bad})
    # schedulers[0].optimizer was read before the check: AttributeError: 'int' object ...
    with pytest.raises(TypeError, match="ChainedScheduler: the scheduler at index 0 \\(int\\) has no `optimizer`"):
        ours_sched.ChainedScheduler([3])
    # int(1.5) == 1 decayed at epoch 1; torch's Counter never meets 1.5.
    for bad in (1.5, float("nan"), float("inf"), True, "3"):
        with pytest.raises(ValueError, match="MultiStepLR: milestones must be whole epoch numbers"):
            ours_sched.MultiStepLR(opt, milestones=[bad])
    assert ours_sched.MultiStepLR(opt, milestones=[2.0, np.int64(4)]).milestones == {2: 1, 4: 1}


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("total_steps,pct_start", [(10, 0.1), (4, 0.25), (2, 0.5), (1, 1.0)])
def test_one_cycle_with_a_phase_of_no_steps(total_steps, pct_start, three_phase):
    # pct_start * total_steps == 1 ends the warm-up at step 0, where the phase starts: torch
    # raises ZeroDivisionError ('float division by zero') in the constructor. kernn takes the
    # phase as over: step 0 is at max_lr, and the rest of the cycle is torch's.
    opt, _ = momentum_optimizers("SGD")
    sched = ours_sched.OneCycleLR(opt, max_lr=1.0, total_steps=total_steps, pct_start=pct_start,
                                  three_phase=three_phase)
    assert sched.get_last_lr() == [1.0, 1.0]
    lrs = [sched.get_last_lr()]
    for _ in range(total_steps - 1):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    assert all(np.isfinite(lr).all() for lr in lrs)
    if total_steps > 1 and not three_phase:
        # the annealing phase ends at min_lr, as torch's
        assert lrs[-1] == [g["min_lr"] for g in opt.param_groups]


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
