"""The shared classifier training loop of the examples and its plot, on a tiny synthetic task."""

import numpy as np
import pytest

import kernn
from kernn import nn
from kernn.data import DataLoader, TensorDataset
from kernn.examples import _common


def _two_blobs(n, seed):
    """Two well-separated Gaussian blobs in 4 dimensions, labels 0 and 1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, 4)).astype(np.float32) * 0.5
    x[:, 0] += np.where(y == 1, 2.0, -2.0).astype(np.float32)
    return x, y.astype(np.int64)


def _train(epochs, scheduler_gamma=None, **options):
    """Train a small classifier on the blobs, 6 steps an epoch; returns (model, optimizer,
    history)."""
    kernn.manual_seed(0)
    x_train, y_train = _two_blobs(60, seed=1)
    x_test, y_test = _two_blobs(30, seed=2)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=10, shuffle=True)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = kernn.optim.SGD(model.parameters(), lr=0.1)
    if scheduler_gamma is not None:
        options["scheduler"] = kernn.optim.lr_scheduler.StepLR(optimizer, 1, scheduler_gamma)
    history = _common.train_classifier(model, loader, nn.CrossEntropyLoss(), optimizer, epochs,
                                       x_test, y_test, **options)
    return model, optimizer, history


def test_history_per_step_and_per_epoch(capsys):
    model, _, history = _train(3, log_every=4)
    assert (history.train_samples, history.test_samples, history.steps_per_epoch) == (60, 30, 6)
    assert len(history.step_losses) == 18
    for epoch, mean in enumerate(history.epoch_losses):
        assert mean == pytest.approx(np.mean(history.step_losses[6 * epoch:6 * epoch + 6]))
    assert len(history.epoch_test_accuracy) == 3
    assert all(0 <= a <= 1 for a in history.epoch_test_accuracy)
    assert history.test_accuracy == history.epoch_test_accuracy[-1] >= 0.9  # separable blobs
    # a log after step 4 of each epoch (6 steps: not at 8), with the mean of those 4 steps
    assert history.logged_steps == [4, 10, 16]
    assert history.logged_losses[1] == pytest.approx(np.mean(history.step_losses[6:10]))
    printed = capsys.readouterr().out
    assert printed.count("Epoch [2/3], Step [4/6], Loss: ") == 1
    assert f"Loss: {history.step_losses[9]:.4f}" in printed  # the latest loss, not the mean
    assert "Epoch [3/3] mean loss " in printed
    assert not model.training  # left in eval mode, as the evaluation needs

    metrics = history.metrics()
    assert metrics["steps"] == 18 and metrics["final_loss"] == history.step_losses[-1]
    assert metrics["epoch_losses"] == history.epoch_losses
    assert metrics["epoch_test_accuracy"] == history.epoch_test_accuracy


def test_running_mean_log_form(capsys):
    _, _, history = _train(2, log_every=3, running_mean=True)
    printed = capsys.readouterr().out
    assert f"[2,     3] loss: {history.logged_losses[2]:.3f}" in printed
    assert "Step [" not in printed


def test_scheduler_steps_once_per_epoch():
    _, optimizer, _ = _train(3, scheduler_gamma=0.5)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 3)


def test_plot_training_draws_loss_and_accuracy():
    pytest.importorskip("matplotlib")
    _, _, history = _train(2, log_every=2)
    fig = _common.plot_training(history, "blobs")
    loss_ax, accuracy_ax = fig.axes
    # each step, the 2-step means and the epoch means; the accuracy after each epoch
    assert [len(line.get_xdata()) for line in loss_ax.lines] == [12, 6, 2]
    np.testing.assert_allclose(loss_ax.lines[2].get_xdata(), [0.5, 1.5])
    np.testing.assert_allclose(accuracy_ax.lines[0].get_ydata(),
                               [100 * a for a in history.epoch_test_accuracy])
    empty = _common.TrainingHistory(train_samples=0, test_samples=0, steps_per_epoch=0,
                                    log_every=100)
    assert _common.plot_training(empty, "nothing") is None
