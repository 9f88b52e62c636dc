"""The training examples of the book and the seeds, runnable by `tinygrad-edu train NAME`.

    thermometer   book ch. 4-5: w·x + b fitted to the 11 readings (SGD, 5000 epochs, lr 1e-2 on
                  t_u·0.1, ending at w = 5.3671, b = -17.3012), or with model="mlp" the
                  1-13-1 tanh network of ch. 5 on a 9/2 train/validation split
    wine          the white-wine table of ch. 3: a classifier of the quality score (an MLP)
    bikes         the hourly bike-sharing series of ch. 3: predict next hour's rentals (an MLP)
    mnist-mlp     handwritten digits with an MLP, dropout and AdamW
    mnist-cnn     handwritten digits with LeNet (tinygrad_edu.models)
    moons         the scalar engine: a 2-16-16-1 MLP of Values on two moons (`train_moons`)

`train(name, ...)` runs one of them: it loads the data, builds the model and optimizer, loops
over the epochs printing the training and validation metrics, then writes a checkpoint (the
model's and the optimizer's state_dict, with `tinygrad_edu.save`) and, when matplotlib is
installed, a PNG of the learning curves. It returns a `TrainResult` whose `metrics` are the final
numbers, so tests can check that learning happened.

Every example but moons uses the same loop (`_fit`): the five steps of every training loop
(zero the gradients, forward, loss, backward, step), a validation pass in eval mode under
`no_grad` after each epoch, and a history of both for the curves.
"""
from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

__all__ = ["EXAMPLES", "ExampleError", "DataError", "TrainResult", "train", "train_moons",
           "default_out_dir"]


class ExampleError(ValueError):
    """An option that the chosen example cannot use; the message says which and why."""


class DataError(RuntimeError):
    """The example's data could not be read; the message says where the loader looked."""


@dataclass(frozen=True)
class Example:
    """One example: what it is (for --help) and its default schedule."""

    summary: str
    epochs: int
    lr: float
    batch_size: int | None      # None: the whole training set in every step
    models: tuple[str, ...] = ("default",)
    lr_by_model: dict[str, float] = field(default_factory=dict)   # a variant's own default


EXAMPLES: dict[str, Example] = {
    "thermometer": Example("book ch. 4-5: fit t_c = w·t_u + b (or --model mlp: 1-13-1 tanh)",
                           epochs=5000, lr=1e-2, batch_size=None, models=("linear", "mlp"),
                           lr_by_model={"mlp": 1e-3}),   # the book lowers it for the net
    "wine": Example("book ch. 3: classify white wines by quality score from 11 measurements",
                    epochs=15, lr=3e-3, batch_size=64),
    "bikes": Example("book ch. 3: predict next hour's bike rentals from this hour's row",
                     epochs=10, lr=3e-3, batch_size=64),
    "mnist-mlp": Example("digits: 784-128-64-10 MLP with dropout, AdamW, cosine schedule",
                         epochs=5, lr=1e-3, batch_size=64),
    "mnist-cnn": Example("digits: LeNet-5 (tinygrad_edu.models.LeNet) with Adam",
                         epochs=3, lr=1e-3, batch_size=64),
    "moons": Example("the scalar engine: 2-16-16-1 MLP of Values on two moons",
                     epochs=100, lr=1.0, batch_size=None),
}


@dataclass
class TrainResult:
    """What a run produced: final `metrics`, the per-epoch `history`, and the files written."""

    name: str
    metrics: dict[str, float]
    history: dict[str, list[float]] = field(default_factory=dict)
    checkpoint: Path | None = None
    plot: Path | None = None


def default_out_dir() -> Path:
    """Where checkpoints and curves go unless told otherwise: ./tinygrad_edu_out/train."""
    return Path("tinygrad_edu_out") / "train"


# ============================================================================ running an example

@dataclass
class _Run:
    """The options of one run, checked, plus where to print."""

    name: str                    # the file stem: "thermometer", "thermometer-mlp", "wine", ...
    epochs: int
    lr: float
    batch_size: int | None
    device: str
    seed: int
    model: str
    limit: int | None
    out_dir: Path | None
    stream: TextIO
    progress: bool

    def say(self, text: str = "") -> None:
        # tqdm.write keeps the progress bar (on stderr) from tearing through printed lines
        if self.progress:
            from tqdm import tqdm
            tqdm.write(text, file=self.stream)
        else:
            print(text, file=self.stream)


def train(name: str, *, epochs: int | None = None, lr: float | None = None,
          batch_size: int | None = None, device: str = "cpu", seed: int = 0,
          model: str | None = None, limit: int | None = None,
          out_dir: str | os.PathLike | None = None, save: bool = True, progress: bool = False,
          stream: TextIO = sys.stdout) -> TrainResult:
    """Train example `name` (a key of `EXAMPLES`) and return its final metrics.

    epochs, lr, batch_size default to the example's own (see `EXAMPLES`); `limit` keeps only the
    first `limit` training samples (for quick runs); `model` picks a variant where an example has
    several (thermometer: "linear" or "mlp"). With `save`, the checkpoint NAME.pt and the curves
    NAME.png go to `out_dir` (default ./tinygrad_edu_out/train). Bad options raise ExampleError;
    missing or unreadable data raises DataError.
    """
    run = _check_options(name, epochs, lr, batch_size, device, seed, model, limit, out_dir,
                         save, progress, stream)
    import tinygrad_edu as torch
    torch.manual_seed(run.seed)
    spec = EXAMPLES[name]
    run.say(f"{name}: {spec.summary}")
    run.say(f"epochs {run.epochs}, lr {run.lr:g}, batch size "
            f"{run.batch_size or 'all'}, device {run.device}, seed {run.seed}")
    started = time.perf_counter()
    result = _TRAINERS[name](run)
    run.say(f"done in {time.perf_counter() - started:.1f} s")
    run.say("final: " + ", ".join(f"{k} {_fmt(k, v)}" for k, v in result.metrics.items()))
    if run.out_dir is not None:
        run.say(f"checkpoint: {result.checkpoint}")
        if result.plot is not None:
            run.say(f"learning curves: {result.plot}")
        else:
            run.say("learning curves: not drawn, matplotlib is not installed "
                    "(pip install 'tinygrad_edu[plots]')")
    return result


def _check_options(name, epochs, lr, batch_size, device, seed, model, limit, out_dir, save,
                   progress, stream) -> _Run:
    """Every option checked before any work, so a typo costs no training time."""
    if name not in EXAMPLES:
        raise ExampleError(f"no example {name!r}; choose from {', '.join(EXAMPLES)}")
    spec = EXAMPLES[name]
    model = model or spec.models[0]
    if model not in spec.models:
        choices = ", ".join(spec.models) if len(spec.models) > 1 else "none (it has one model)"
        raise ExampleError(f"{name} has no model {model!r}; choices: {choices}")
    epochs = spec.epochs if epochs is None else epochs
    lr = spec.lr_by_model.get(model, spec.lr) if lr is None else lr
    if not isinstance(epochs, int) or epochs < 1:
        raise ExampleError(f"--epochs must be a positive whole number, got {epochs!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ExampleError(f"--lr must be a positive number, got {lr!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ExampleError(f"--batch-size must be a positive whole number, got {batch_size!r}")
    if name == "moons" and batch_size is not None:
        raise ExampleError("moons trains the scalar engine on all points at every step; "
                           "--batch-size does not apply to it")
    if limit is not None and (not isinstance(limit, int) or limit < 2):
        raise ExampleError(f"--limit must be a whole number of at least 2, got {limit!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ExampleError(f"--seed must be a non-negative whole number, got {seed!r}")
    device = _check_device(name, device)
    folder = None
    if save:
        folder = Path(out_dir).expanduser() if out_dir is not None else default_out_dir()
        if folder.exists() and not folder.is_dir():
            raise ExampleError(f"--out {str(folder)!r} is a file, not a folder")
    run_name = name if model == spec.models[0] else f"{name}-{model}"
    return _Run(run_name, epochs, float(lr), batch_size or spec.batch_size, device, seed, model,
                limit, folder, stream, progress)


def _check_device(name: str, device: str) -> str:
    """"cpu", or "cuda" when a GPU (or Numba's simulator) can run tinygrad_edu's CUDA kernels."""
    import tinygrad_edu as torch
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ExampleError(f"--device {device!r} is not a device: {exc}") from None
    if dev.type == "cpu":
        return "cpu"
    if name == "moons":
        raise ExampleError("moons runs on the scalar engine (Python floats), which has no "
                           "devices; leave --device at cpu")
    try:
        from tinygrad_edu import cuda
        available = cuda.is_available()
    except ImportError:
        available = False
    if not available:
        raise ExampleError("--device cuda: CUDA is not available here (no NVIDIA GPU found). To "
                           "run the CUDA kernels in Numba's simulator instead (slow), set "
                           "NUMBA_ENABLE_CUDASIM=1 in the environment")
    return str(dev)


def _fmt(key: str, value: float) -> str:
    if "accuracy" in key:
        return f"{value:.1%}"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"


def _load(loader: Callable, *args, **kwargs):
    """Call a dataset loader, turning a missing or damaged file into a DataError."""
    try:
        return loader(*args, **kwargs)
    except (FileNotFoundError, ValueError) as exc:
        raise DataError(str(exc)) from None


# ============================================================================ the shared loop

def _batches(x, y, batch_size: int | None, shuffle: bool):
    """A DataLoader over (x, y), or the whole set as one batch when batch_size is None/too big.

    One batch avoids the loader's bookkeeping in full-batch runs such as the thermometer's 5000
    epochs, where it would cost more than the arithmetic.
    """
    from tinygrad_edu.data import DataLoader, TensorDataset
    if batch_size is None or batch_size >= len(x):
        return [(x, y)]
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle)


def _log_epochs(epochs: int) -> set[int]:
    """Which epochs get a printed line: all of few, else the first 3, every tenth, the last."""
    if epochs <= 25:
        return set(range(1, epochs + 1))
    step = max(1, epochs // 10)
    return {1, 2, 3, epochs} | set(range(step, epochs + 1, step))


def _fit(run: _Run, model, loss_fn, optimizer, train_loader, val_data, *,
         classify: bool = False, scheduler=None, extra: Callable | None = None) -> dict:
    """Train `model` for run.epochs epochs; return the history of per-epoch metrics.

    train_loader yields (x, y) batches (on the CPU; moved to run.device here). val_data is
    (x_val, y_val) or None. With `classify`, accuracy (argmax of the outputs) is tracked too.
    `extra(metrics)` may derive more metrics from an epoch's (e.g. an RMSE in real units from
    the mean squared error): it gets the epoch's dict and returns the additions.
    """
    history: dict[str, list[float]] = {"epoch": []}
    shown = _log_epochs(run.epochs)
    bar = None
    if run.progress:
        from tqdm import tqdm
        per_epoch = len(train_loader)
        bar = tqdm(total=run.epochs * per_epoch, desc=run.name, unit="batch", leave=False,
                   file=sys.stderr, mininterval=0.25)
    device = run.device
    try:
        for epoch in range(1, run.epochs + 1):
            model.train()
            total_loss, total_right, seen = 0.0, 0, 0
            for x, y in train_loader:
                x, y = x.to(device), y.to(device)
                optimizer.zero_grad()            # backward adds into .grad: clear it first
                outputs = model(x)
                loss = loss_fn(outputs, y)
                loss.backward()
                optimizer.step()
                n = x.shape[0]
                total_loss += loss.item() * n    # mean loss × batch size: sums over samples
                seen += n
                if classify:
                    total_right += int((outputs.argmax(1) == y).sum().item())
                if bar is not None:
                    bar.update(1)
            if scheduler is not None:
                scheduler.step()
            metrics = {"train_loss": total_loss / seen}
            if classify:
                metrics["train_accuracy"] = total_right / seen
            if val_data is not None:
                metrics.update(_evaluate(model, loss_fn, *val_data, device, classify))
            if extra is not None:
                metrics.update(extra(metrics))
            if not all(math.isfinite(v) for v in metrics.values()):
                run.say(f"epoch {epoch}: the loss is no longer a finite number (diverged); "
                        f"try a smaller --lr than {run.lr:g}")
                _record(history, epoch, metrics)
                break
            _record(history, epoch, metrics)
            if epoch in shown:
                run.say(_epoch_line(epoch, run.epochs, metrics))
    finally:
        if bar is not None:
            bar.close()
    return history


def _evaluate(model, loss_fn, x, y, device: str, classify: bool, chunk: int = 500) -> dict:
    """Validation loss (and accuracy) of `model` on (x, y), in chunks of `chunk` samples.

    Chunks bound the memory a big model needs for thousands of images at once; the mean loss
    of the whole set is the chunks' mean losses weighted by their sizes.
    """
    import tinygrad_edu as torch
    model.eval()                       # dropout off, batch norm uses its running statistics
    total_loss, right = 0.0, 0
    with torch.no_grad():              # no graph: validation never calls backward
        for start in range(0, len(x), chunk):
            xb, yb = x[start:start + chunk].to(device), y[start:start + chunk].to(device)
            out = model(xb)
            total_loss += loss_fn(out, yb).item() * len(xb)
            if classify:
                right += int((out.argmax(1) == yb).sum().item())
    metrics = {"val_loss": total_loss / len(x)}
    if classify:
        metrics["val_accuracy"] = right / len(x)
    return metrics


def _record(history: dict, epoch: int, metrics: dict) -> None:
    history["epoch"].append(epoch)
    for key, value in metrics.items():
        history.setdefault(key, []).append(value)


def _epoch_line(epoch: int, epochs: int, metrics: dict) -> str:
    width = len(str(epochs))
    train = "  ".join(f"{k.removeprefix('train_')} {_fmt(k, v)}" for k, v in metrics.items()
                      if k.startswith("train_"))
    val = "  ".join(f"{k.removeprefix('val_')} {_fmt(k, v)}" for k, v in metrics.items()
                    if k.startswith("val_"))
    return f"epoch {epoch:{width}d}/{epochs}  train: {train}" + (f"  | val: {val}" if val else "")


def _final(history: dict) -> dict[str, float]:
    """The last epoch's metrics, plus how many epochs ran."""
    final = {k: v[-1] for k, v in history.items() if k != "epoch"}
    final["epochs"] = history["epoch"][-1] if history["epoch"] else 0
    return final


def _finish(run: _Run, history: dict, metrics: dict, state: dict) -> TrainResult:
    """Write the checkpoint (and the curves) if asked; wrap everything in a TrainResult."""
    result = TrainResult(run.name, metrics, history)
    if run.out_dir is None:
        return result
    import tinygrad_edu as torch
    run.out_dir.mkdir(parents=True, exist_ok=True)
    # Tensors on the GPU come back to the CPU first, so the file loads on any machine.
    checkpoint = {"example": run.name, "epochs": metrics.get("epochs", run.epochs),
                  "lr": run.lr, "seed": run.seed, "metrics": dict(metrics),
                  "history": history, **_to_cpu(state)}
    result.checkpoint = run.out_dir / f"{run.name}.pt"
    torch.save(checkpoint, result.checkpoint)   # written to a temporary file, then renamed
    result.plot = _plot_curves(run, history)
    return result


def _to_cpu(obj):
    from tinygrad_edu import Tensor
    if isinstance(obj, Tensor):
        return obj.detach().to("cpu")
    if isinstance(obj, dict):
        return type(obj)((k, _to_cpu(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _plot_curves(run: _Run, history: dict) -> Path | None:
    """NAME.png: the loss (and accuracy or RMSE) per epoch, training against validation."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")        # draw into a file: no window, works without a display
    from matplotlib import pyplot as plt

    from tinygrad_edu.serialization import atomic_write
    from matplotlib.ticker import MaxNLocator
    epochs = history["epoch"]
    losses = [v for k in ("train_loss", "val_loss") for v in history.get(k, [])
              if math.isfinite(v)]
    # A loss that falls by orders of magnitude (the thermometer's) reads best on a log scale.
    log = bool(losses) and min(losses) > 0 and max(losses) / min(losses) > 20
    panels = [("loss", "loss (log scale)" if log else "loss", log)]
    for key, label in (("accuracy", "accuracy"), ("rmse", "RMSE (bikes per hour)")):
        if f"train_{key}" in history:
            panels.append((key, label, False))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (key, label, log) in zip(axes[0], panels):
        for split, style in (("train", "-"), ("val", "--")):
            values = history.get(f"{split}_{key}")
            if values:
                ax.plot(epochs, values, style, label="training" if split == "train"
                        else "validation")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"tinygrad-edu train {run.name}")
    fig.tight_layout()
    path = run.out_dir / f"{run.name}.png"
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))
    plt.close(fig)
    return path


# ============================================================================ thermometer

def _thermometer(run: _Run) -> TrainResult:
    """Book ch. 4-5 on the 11 thermometer readings.

    linear: t_c ≈ w·(0.1·t_u) + b from w = 1, b = 0, on all 11 readings (the book's fit:
    5000 full-batch SGD steps at lr 1e-2 end at w = 5.3671, b = -17.3012, loss 2.9276). There
    is no validation set: with 11 points, the book fits them all here.
    mlp: Linear(1, 13) → Tanh → Linear(13, 1), SGD, on 9 readings; the other 2, picked by a
    random permutation, validate (book ch. 5.3: expect the net to chase the noisy points).
    """
    import tinygrad_edu as torch
    from tinygrad_edu import nn, optim
    from tinygrad_edu.datasets import load_thermometer

    t_c, t_u = load_thermometer()
    x = (0.1 * t_u).unsqueeze(1)          # (11, 1): a batch of 11 samples of one feature
    y = t_c.unsqueeze(1)
    if run.limit is not None:
        x, y = x[:run.limit], y[:run.limit]
    if run.model == "linear":
        model = nn.Linear(1, 1)
        with torch.no_grad():             # the book's starting point, so its numbers come out
            model.weight.fill_(1.0)
            model.bias.zero_()
        train_x, train_y, val = x, y, None
    else:
        model = nn.Sequential(nn.Linear(1, 13), nn.Tanh(), nn.Linear(13, 1))
        order = torch.randperm(x.shape[0])
        n_val = max(1, int(0.2 * x.shape[0]))
        train_x, train_y = x[order[:-n_val]], y[order[:-n_val]]
        val = (x[order[-n_val:]], y[order[-n_val:]])
    model.to(run.device)
    optimizer = optim.SGD(model.parameters(), lr=run.lr)
    run.say(f"model: {model}" if run.model == "mlp" else "model: t_c = w * (0.1 * t_u) + b")
    history = _fit(run, model, nn.MSELoss(), optimizer,
                   _batches(train_x, train_y, run.batch_size, shuffle=True), val)
    metrics = _final(history)
    if run.model == "linear":
        metrics["w"] = model.weight.item()
        metrics["b"] = model.bias.item()
    return _finish(run, history, metrics, {"model": model.state_dict(),
                                           "optimizer": optimizer.state_dict(),
                                           "input_scale": 0.1})


# ============================================================================ wine

def _standardize(train, *others):
    """(x - mean) / std with the statistics of the training rows only, applied to every set.

    The validation rows must not leak into the statistics: they stand for wines never seen.
    """
    mean, std = train.mean(0), train.std(0)
    return [(t - mean) / std for t in (train, *others)], mean, std


def _wine(run: _Run) -> TrainResult:
    """Book ch. 3.1's white wines: 11 chemical measurements → the quality score as a class.

    Scores run 0-10 in principle and 3-9 in the data; the model has 10 outputs (scores 0-9, as
    the book's one-hot of width 10). 20% of the wines, chosen at random, validate. Features are
    standardised with the training rows' mean and standard deviation. The baseline to beat is
    always answering the most common score (6), right for about 45% of the wines.
    """
    import tinygrad_edu as torch
    from tinygrad_edu import nn, optim
    from tinygrad_edu.datasets import load_wine

    wine = _load(load_wine)
    order = torch.randperm(wine.data.shape[0])
    n_val = wine.data.shape[0] // 5
    train_idx, val_idx = order[n_val:], order[:n_val]
    if run.limit is not None:
        train_idx = train_idx[:run.limit]
    (train_x, val_x), mean, std = _standardize(wine.data[train_idx], wine.data[val_idx])
    train_y, val_y = wine.target[train_idx], wine.target[val_idx]
    majority = int(torch.bincount(train_y).argmax().item())
    baseline = (val_y == majority).float().mean().item()
    run.say(f"{len(train_y)} training wines, {len(val_y)} validation wines; always answering "
            f"score {majority} would be right for {baseline:.1%} of the validation wines")
    model = nn.Sequential(nn.Linear(11, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 10)).to(run.device)
    optimizer = optim.AdamW(model.parameters(), lr=run.lr, weight_decay=1e-4)
    history = _fit(run, model, nn.CrossEntropyLoss(), optimizer,
                   _batches(train_x, train_y, run.batch_size, shuffle=True), (val_x, val_y),
                   classify=True)
    metrics = _final(history)
    metrics["baseline_accuracy"] = baseline
    return _finish(run, history, metrics, {"model": model.state_dict(),
                                           "optimizer": optimizer.state_dict(),
                                           "feature_mean": mean, "feature_std": std})


# ============================================================================ bikes

def _bike_features(bikes):
    """One row of inputs per hour, from the (17520, 21) table with the weather one-hot.

    The hour of day goes in as a point on a circle (sin, cos), so 23:00 sits next to 0:00; the
    rest are the year, holiday and working-day flags, Saturday/Sunday flags, the four weather
    columns, the normalised temperature, perceived temperature, humidity and wind (already in
    [0, 1] in this file), and this hour's count, which the caller scales.
    """
    import tinygrad_edu as torch
    angle = bikes[:, 5] * (2 * math.pi / 24)
    columns = [torch.sin(angle), torch.cos(angle), bikes[:, 3], bikes[:, 6], bikes[:, 8],
               (bikes[:, 7] == 6).float(), (bikes[:, 7] == 0).float(),
               bikes[:, 17], bikes[:, 18], bikes[:, 19], bikes[:, 20],
               bikes[:, 10], bikes[:, 11], bikes[:, 12], bikes[:, 13]]
    return torch.stack(columns, dim=1)


def _bikes(run: _Run) -> TrainResult:
    """Book ch. 3.2's bike-sharing series: from hour t's row, predict the rentals of hour t+1.

    The split follows time, as it must for a series: the first 80% of the days train and the
    last 20% validate (shuffling hours across the split would let the model peek at
    neighbouring hours of the validation days). Counts are divided by the largest training
    count so the targets lie in [0, 1]; the RMSE is reported back in bikes per hour, next to
    two baselines: predicting the training mean, and "next hour = this hour".
    """
    import tinygrad_edu as torch
    from tinygrad_edu import nn, optim
    from tinygrad_edu.datasets import load_bikes

    bikes = _load(load_bikes, weather_onehot=True)
    count = bikes[:, 16]
    n_train_hours = int(bikes.shape[0] // 24 * 0.8) * 24       # whole days
    scale = count[:n_train_hours].max().item()
    inputs = torch.cat([_bike_features(bikes), (count / scale).unsqueeze(1)], dim=1)[:-1]
    targets = (count[1:] / scale).unsqueeze(1)
    train_x, train_y = inputs[:n_train_hours - 1], targets[:n_train_hours - 1]
    val_x, val_y = inputs[n_train_hours - 1:], targets[n_train_hours - 1:]
    if run.limit is not None:
        train_x, train_y = train_x[:run.limit], train_y[:run.limit]
    mean_rmse = ((val_y - train_y.mean()) ** 2).mean().sqrt().item() * scale
    same_rmse = ((val_y - val_x[:, -1:]) ** 2).mean().sqrt().item() * scale
    run.say(f"{len(train_x)} training hours, {len(val_x)} validation hours "
            f"({inputs.shape[1]} inputs each); baselines on validation: RMSE {mean_rmse:.1f} "
            f"(training mean), {same_rmse:.1f} (next hour = this hour)")
    model = nn.Sequential(nn.Linear(inputs.shape[1], 64), nn.ReLU(), nn.Linear(64, 64),
                          nn.ReLU(), nn.Linear(64, 1)).to(run.device)
    optimizer = optim.AdamW(model.parameters(), lr=run.lr, weight_decay=1e-4)

    def rmse(metrics):       # the MSE of scaled counts back in bikes per hour
        out = {"train_rmse": math.sqrt(metrics["train_loss"]) * scale}
        if "val_loss" in metrics:
            out["val_rmse"] = math.sqrt(metrics["val_loss"]) * scale
        return out

    history = _fit(run, model, nn.MSELoss(), optimizer,
                   _batches(train_x, train_y, run.batch_size, shuffle=True), (val_x, val_y),
                   extra=rmse)
    metrics = _final(history)
    metrics.update(baseline_mean_rmse=mean_rmse, baseline_same_rmse=same_rmse)
    return _finish(run, history, metrics, {"model": model.state_dict(),
                                           "optimizer": optimizer.state_dict(),
                                           "count_scale": scale})


# ============================================================================ MNIST

def _mnist(run: _Run, flatten: bool):
    from tinygrad_edu.datasets import load_mnist
    data = _load(load_mnist, flatten=flatten)
    train_x, train_y = data.train_images, data.train_labels
    if run.limit is not None:
        train_x, train_y = train_x[:run.limit], train_y[:run.limit]
    if not flatten:                        # (N, 28, 28) -> (N, 1, 28, 28): one channel
        train_x = train_x.unsqueeze(1)
        val_x = data.val_images.unsqueeze(1)
    else:
        val_x = data.val_images
    split = ("the first 8000 of MNIST's t10k file train, the last 2000 validate"
             if data.split == "t10k" else "MNIST's 60000 training and 10000 test images")
    run.say(f"{len(train_x)} training images, {len(val_x)} validation images ({split})")
    return train_x, train_y, val_x, data.val_labels


def _mnist_mlp(run: _Run) -> TrainResult:
    """Digits with an MLP: 784 → 128 → ReLU → Dropout(0.2) → 64 → ReLU → 10.

    AdamW (lr 1e-3, weight decay 1e-4), the learning rate annealed along a cosine to zero over
    the run; the validation set is MNIST's t10k images 8000-9999 (see load_mnist).
    """
    from tinygrad_edu import nn, optim
    train_x, train_y, val_x, val_y = _mnist(run, flatten=True)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 64),
                          nn.ReLU(), nn.Linear(64, 10)).to(run.device)
    optimizer = optim.AdamW(model.parameters(), lr=run.lr, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=run.epochs)
    history = _fit(run, model, nn.CrossEntropyLoss(), optimizer,
                   _batches(train_x, train_y, run.batch_size, shuffle=True), (val_x, val_y),
                   classify=True, scheduler=scheduler)
    return _finish(run, history, _final(history), {"model": model.state_dict(),
                                                   "optimizer": optimizer.state_dict()})


def _mnist_cnn(run: _Run) -> TrainResult:
    """Digits with LeNet-5 (tinygrad_edu.models.LeNet): two conv/pool blocks, three linear
    layers; Adam at lr 1e-3."""
    from tinygrad_edu import nn, optim
    from tinygrad_edu.models import LeNet
    train_x, train_y, val_x, val_y = _mnist(run, flatten=False)
    model = LeNet().to(run.device)
    optimizer = optim.Adam(model.parameters(), lr=run.lr)
    history = _fit(run, model, nn.CrossEntropyLoss(), optimizer,
                   _batches(train_x, train_y, run.batch_size, shuffle=True), (val_x, val_y),
                   classify=True)
    return _finish(run, history, _final(history), {"model": model.state_dict(),
                                                   "optimizer": optimizer.state_dict()})


# ============================================================================ moons (scalar)

def train_moons(steps: int = 100, seed: int = 0, n_samples: int = 100,
                out: TextIO = sys.stdout, lr: float = 1.0, val_samples: int = 0,
                model=None) -> dict:
    """Two moons with the scalar engine: a 2-16-16-1 ReLU MLP of `Value`s.

    Loss: the hinge loss max(0, 1 - y*score) averaged over the points (labels y = ±1), plus an
    L2 penalty 1e-4 * sum(p^2) on the parameters. Plain SGD with a learning rate that decays
    linearly from `lr` to lr/10 over the run. With `val_samples`, that many fresh points (drawn
    with another seed) are scored after every step. Returns the final "loss" and "accuracy"
    (plus "val_accuracy"), and the per-step "history".
    """
    from tinygrad_edu.datasets import make_moons
    from tinygrad_edu.scalar import MLP, Value

    X, y = make_moons(n_samples, noise=0.1, seed=seed)
    inputs = [[Value(a), Value(b)] for a, b in X.tolist()]
    labels = (2 * y - 1).tolist()
    if val_samples:
        X_val, y_val = make_moons(val_samples, noise=0.1, seed=seed + 10_000)
        val_labels = (2 * y_val - 1).tolist()
    model = model if model is not None else MLP(2, [16, 16, 1], seed=seed)
    sizes = [len(model.layers[0].neurons[0].w)] + [len(layer.neurons) for layer in model.layers]
    print(f"moons: {n_samples} points, a {'-'.join(map(str, sizes))} MLP of Values with "
          f"{len(model.parameters())} parameters", file=out)
    history: dict[str, list[float]] = {"epoch": [], "train_loss": [], "train_accuracy": []}
    loss = accuracy = val_accuracy = None
    for step in range(steps):
        scores = [model(x) for x in inputs]
        data_loss = sum((1 - yi * s).relu() for yi, s in zip(labels, scores)) / len(labels)
        loss = data_loss + 1e-4 * sum(p * p for p in model.parameters())
        accuracy = sum((s.data > 0) == (yi > 0) for s, yi in zip(scores, labels)) / len(labels)
        history["epoch"].append(step + 1)
        history["train_loss"].append(loss.data)
        history["train_accuracy"].append(accuracy)
        line = f"step {step:3d}  loss {loss.data:.4f}  accuracy {accuracy:.1%}"
        if val_samples:      # scored with the same parameters as the line's training numbers
            right = sum((model(list(p)).data > 0) == (yi > 0)
                        for p, yi in zip(X_val.tolist(), val_labels))
            val_accuracy = right / val_samples
            history.setdefault("val_accuracy", []).append(val_accuracy)
            line += f"  | val accuracy {val_accuracy:.1%}"
        model.zero_grad()
        loss.backward()
        step_lr = lr * (1.0 - 0.9 * step / steps)
        for p in model.parameters():
            p.data -= step_lr * p.grad
        if step % 10 == 0 or step == steps - 1:
            print(line, file=out)
    result = {"loss": loss.data, "accuracy": accuracy, "history": history}
    if val_samples:
        result["val_accuracy"] = val_accuracy
    return result


def _moons(run: _Run) -> TrainResult:
    """`train_moons` as a train example: 100 training points (or --limit), 200 to validate."""
    import tinygrad_edu as torch
    from tinygrad_edu.scalar import MLP

    model = MLP(2, [16, 16, 1], seed=run.seed)

    class _Lines:            # train_moons prints; route its lines through run.say
        def write(self, text):
            if text.strip():
                run.say(text.rstrip("\n"))

        def flush(self):
            pass

    found = train_moons(steps=run.epochs, seed=run.seed, n_samples=run.limit or 100,
                        out=_Lines(), lr=run.lr, val_samples=200, model=model)
    history = found["history"]
    metrics = {"train_loss": found["loss"], "train_accuracy": found["accuracy"],
               "val_accuracy": found["val_accuracy"], "epochs": run.epochs}
    # The scalar model has no state_dict: its parameters in order (layer by layer, each neuron's
    # weights then bias) are saved as one float64 tensor.
    values = torch.tensor([p.data for p in model.parameters()], dtype=torch.float64)
    return _finish(run, history, metrics, {"model": {"parameters": values,
                                                     "sizes": [2, 16, 16, 1]},
                                           "optimizer": {"lr": run.lr,
                                                         "schedule": "linear decay to lr/10"}})


# The function that trains each example of EXAMPLES.
_TRAINERS: dict[str, Callable[[_Run], TrainResult]] = {
    "thermometer": _thermometer, "wine": _wine, "bikes": _bikes,
    "mnist-mlp": _mnist_mlp, "mnist-cnn": _mnist_cnn, "moons": _moons,
}
