"""Learning-rate schedulers against PyTorch: the rates (and cycled momenta) of 100 steps."""
import math
import warnings

import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu.optim import lr_scheduler

STEPS = 100


def plateau_metric(i: int) -> float:
    """Improves for 30 epochs, then wobbles without improving (so the plateau logic fires)."""
    return 1.0 / (1 + i) if i < 30 else 0.05 + 0.001 * (i % 3)


def schedule(lib, opt_name, opt_kwargs, sched_name, sched_kwargs, steps=STEPS):
    """Every step's rates, momenta and get_last_lr(), for a two-group optimizer."""
    a, b = lib.zeros(3, requires_grad=True), lib.zeros(2, requires_grad=True)
    opt = getattr(lib.optim, opt_name)([{"params": [a]}, {"params": [b], "lr": 0.5}],
                                       **opt_kwargs)
    sched = getattr(lib.optim.lr_scheduler, sched_name)(opt, **sched_kwargs)
    rows = [list(sched.get_last_lr())]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns that optimizer.step saw no gradients
        for i in range(steps):
            opt.step()
            if sched_name == "ReduceLROnPlateau":
                sched.step(plateau_metric(i))
            else:
                sched.step()
            momenta = [g["betas"][0] if "betas" in g else g.get("momentum", 0.0)
                       for g in opt.param_groups]
            rows.append(list(sched.get_last_lr()) + [g["lr"] for g in opt.param_groups] + momenta)
    return rows


CASES = [
    ("SGD", dict(lr=0.1), "StepLR", dict(step_size=7, gamma=0.5)),
    ("SGD", dict(lr=0.1), "MultiStepLR", dict(milestones=[10, 30, 30, 80], gamma=0.5)),
    ("SGD", dict(lr=0.1), "ExponentialLR", dict(gamma=0.95)),
    ("SGD", dict(lr=0.1), "CosineAnnealingLR", dict(T_max=30, eta_min=0.001)),
    ("SGD", dict(lr=0.1), "CosineAnnealingLR", dict(T_max=100)),
    ("SGD", dict(lr=0.1), "LambdaLR", dict(lr_lambda=lambda e: 0.9 ** e + 0.01 * e)),
    ("SGD", dict(lr=0.1), "LambdaLR", dict(lr_lambda=[lambda e: 1 / (1 + e), lambda e: 2.0])),
    ("SGD", dict(lr=0.1, momentum=0.9), "OneCycleLR", dict(max_lr=[1.0, 2.0], total_steps=100)),
    ("SGD", dict(lr=0.1, momentum=0.9), "OneCycleLR",
     dict(max_lr=0.3, epochs=4, steps_per_epoch=25, pct_start=0.25, div_factor=10.0,
          final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9)),
    ("Adam", dict(lr=0.1), "OneCycleLR",
     dict(max_lr=1.0, total_steps=101, anneal_strategy="linear", three_phase=True)),
    ("Adam", dict(lr=0.1), "OneCycleLR", dict(max_lr=1.0, total_steps=100,
                                              cycle_momentum=False)),
    ("SGD", dict(lr=0.1), "ReduceLROnPlateau",
     dict(patience=3, cooldown=2, factor=0.5, min_lr=[0.01, 0.05])),
    ("SGD", dict(lr=0.1), "ReduceLROnPlateau",
     dict(mode="max", threshold_mode="abs", patience=2, threshold=0.01, factor=0.3)),
    ("SGD", dict(lr=0.1), "ReduceLROnPlateau", dict(patience=0, eps=0.04)),
    ("SGD", dict(lr=0.1), "LinearLR", dict(start_factor=0.1, total_iters=20)),
    ("SGD", dict(lr=0.1), "LinearLR", dict(start_factor=1.0, end_factor=0.05, total_iters=50)),
    ("SGD", dict(lr=0.1), "ConstantLR", dict(factor=0.25, total_iters=10)),
    ("SGD", dict(lr=0.1), "PolynomialLR", dict(total_iters=60, power=2.0)),
    ("SGD", dict(lr=0.1), "MultiplicativeLR", dict(lr_lambda=lambda e: 0.97)),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_rates_match_pytorch_for_100_steps(case):
    ours, theirs = schedule(tg, *case), schedule(torch, *case)
    assert len(ours) == len(theirs) == STEPS + 1
    for step, (row_ours, row_theirs) in enumerate(zip(ours, theirs)):
        assert row_ours == pytest.approx(row_theirs, rel=1e-12, abs=1e-15), f"step {step}"
    rates = [row[0] for row in ours]
    assert max(rates) > min(rates)  # the schedule really moved


@pytest.mark.parametrize("name,kwargs", [("StepLR", dict(step_size=3, gamma=0.5)),
                                         ("MultiStepLR", dict(milestones=[2, 5, 5])),
                                         ("ExponentialLR", dict(gamma=0.9)),
                                         ("CosineAnnealingLR", dict(T_max=10, eta_min=0.01)),
                                         ("LinearLR", dict(start_factor=0.2, total_iters=5)),
                                         ("ConstantLR", dict(factor=0.5, total_iters=5)),
                                         ("PolynomialLR", dict(total_iters=9, power=0.5))])
def test_step_with_an_epoch_uses_the_closed_form(name, kwargs):
    def run(lib):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = []
            for epoch in (4, 1, 7, 7, 12):
                sched.step(epoch)
                out.append(sched.get_last_lr()[0])
        return out
    assert run(tg) == pytest.approx(run(torch), rel=1e-12)


def test_step_lr_as_in_seed_003():
    opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    rates = []
    for _ in range(90):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert rates[0] == rates[29] == 0.1
    assert rates[30] == pytest.approx(0.01) and rates[60] == pytest.approx(0.001)


def test_scheduler_sets_initial_lr_and_base_lrs():
    opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.3)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert opt.param_groups[0]["initial_lr"] == 0.3
    assert sched.base_lrs == [0.3] and sched.last_epoch == 0
    assert sched.get_last_lr() == [0.3]


def test_state_dict_round_trip_resumes_the_schedule():
    def make():
        opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
        return opt, lr_scheduler.CosineAnnealingLR(opt, T_max=20)
    opt, sched = make()
    for _ in range(7):
        opt.step()
        sched.step()
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 7
    opt2, sched2 = make()
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    for _ in range(5):
        opt.step()
        sched.step()
        opt2.step()
        sched2.step()
    assert sched2.get_last_lr() == pytest.approx(sched.get_last_lr(), rel=1e-15)
    assert sched2.last_epoch == 12


def test_lambda_lr_state_dict_skips_plain_functions():
    opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)

    class Halving:
        def __init__(self):
            self.factor = 0.5

        def __call__(self, epoch):
            return self.factor ** epoch
    sched = lr_scheduler.LambdaLR(opt, [Halving()])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"factor": 0.5}]
    state["lr_lambdas"] = [{"factor": 0.25}]
    sched.load_state_dict(state)
    opt.step()
    sched.step()
    assert sched.get_last_lr() == [0.25]
    plain = lr_scheduler.LambdaLR(opt, lambda e: 1.0)
    assert plain.state_dict()["lr_lambdas"] == [None]


def test_reduce_on_plateau_accepts_a_tensor_metric_and_cuts_after_patience():
    opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5)
    for value in [1.0, 1.0, 1.0]:
        sched.step(tg.tensor(value))
    assert opt.param_groups[0]["lr"] == 1.0          # two bad epochs: still patient
    sched.step(tg.tensor(1.0))
    assert opt.param_groups[0]["lr"] == 0.5          # the third bad epoch cuts the rate
    sched.step(0.1)
    assert sched.best == 0.1 and sched.num_bad_epochs == 0


def test_one_cycle_refuses_to_step_past_total_steps():
    opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total "
                                         "steps is 3"):
        sched.step()


@pytest.mark.parametrize("make,error,message", [
    (lambda o: lr_scheduler.StepLR("not an optimizer", 3), TypeError, "is not an Optimizer"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError,
     "Factor should be < 1.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="best"), ValueError, "mode best is unknown"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]), ValueError,
     "expected 1 min_lrs, got 2"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), ValueError,
     "You must define either total_steps OR"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=2.0),
     ValueError, "Expected float between 0 and 1 pct_start"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"),
     ValueError, "anneal_strategy must be one of 'cos' or 'linear'"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10), ValueError,
     "optimizer must support momentum or beta1"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1, lambda e: 2]), ValueError,
     "Expected 1 lr_lambdas, but got 2"),
    (lambda o: lr_scheduler.StepLR(o, 3, last_epoch=5), KeyError, "initial_lr"),
])
def test_bad_arguments(make, error, message):
    opt = tg.optim.Adagrad([tg.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(error, match=message):
        make(opt)


def test_cosine_formula_is_the_closed_form_within_rounding():
    opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.2)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=25, eta_min=0.02)
    for t in range(1, 26):
        opt.step()
        sched.step()
        closed = 0.02 + (0.2 - 0.02) * (1 + math.cos(math.pi * t / 25)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(closed, rel=1e-9, abs=1e-12)


def test_sequential_lr_warm_up_then_cosine_matches_pytorch():
    """Linear warm-up, then cosine decay (the guides' default), and a three-stage chain."""
    def run(lib, stages):
        a, b = lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)
        opt = lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
        schedulers, milestones = stages(lib.optim.lr_scheduler, opt)
        sched = lib.optim.lr_scheduler.SequentialLR(opt, schedulers, milestones=milestones)
        rows = [list(sched.get_last_lr())]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(40):
                opt.step()
                sched.step()
                rows.append(list(sched.get_last_lr()) + [g["lr"] for g in opt.param_groups])
        return rows, sched.state_dict()["last_epoch"]
    warm_cosine = lambda S, o: ([S.LinearLR(o, 0.01, total_iters=5), S.CosineAnnealingLR(o, 30)],
                                [5])
    chain = lambda S, o: ([S.ConstantLR(o, 0.5, 3), S.ExponentialLR(o, 0.9), S.StepLR(o, 4)],
                          [3, 12])
    for stages in (warm_cosine, chain):
        (ours, epoch), (theirs, their_epoch) = run(tg, stages), run(torch, stages)
        assert epoch == their_epoch
        for row_ours, row_theirs in zip(ours, theirs):
            assert row_ours == pytest.approx(row_theirs, rel=1e-12, abs=1e-15)


def test_sequential_lr_checks_its_arguments():
    opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1)
    other = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1)
    S = lr_scheduler
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        S.SequentialLR(opt, [S.ConstantLR(opt), S.ExponentialLR(opt, 0.9)], milestones=[])
    with pytest.raises(ValueError, match="same optimizer"):
        S.SequentialLR(opt, [S.ConstantLR(opt), S.ExponentialLR(other, 0.9)], milestones=[2])
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        S.LinearLR(opt, start_factor=0)


def test_sequential_lr_resumes_from_its_state_dict():
    """Stopped after 7 steps, saved, and rebuilt: the next rates are those of an unbroken run."""
    def build():
        opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1)
        S = lr_scheduler
        return opt, S.SequentialLR(opt, [S.LinearLR(opt, 0.1, total_iters=4),
                                         S.ExponentialLR(opt, 0.8)], milestones=[4])
    opt, sched = build()
    unbroken = []
    for i in range(12):
        opt.step()
        sched.step()
        unbroken.append(sched.get_last_lr()[0])
        if i == 6:
            saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    opt, sched = build()
    opt.load_state_dict(saved_opt)
    sched.load_state_dict(saved_sched)
    resumed = []
    for _ in range(5):
        opt.step()
        sched.step()
        resumed.append(sched.get_last_lr()[0])
    assert resumed == pytest.approx(unbroken[7:], rel=1e-12)
