"""`tinygrad-edu train`: each example learns on a short schedule, writes a checkpoint that loads
back into the same model, and bad options exit 2 with a message instead of a traceback.

The schedules are short (few epochs, a subset of MNIST), so the checks are "the metric moved
the right way by a clear margin", not the full runs' numbers, except for the thermometer,
whose full 5000-epoch fit is cheap and must land on the book's parameters.
"""
import io
import subprocess
import sys

import pytest

import tinygrad_edu as torch
from tinygrad_edu import cli, examples, nn
from tinygrad_edu.examples import ExampleError, train


def quiet(name, tmp_path=None, **options):
    """Run an example without progress bar; its printed lines land in result.log."""
    stream = io.StringIO()
    result = train(name, out_dir=tmp_path, save=tmp_path is not None, stream=stream, **options)
    result.log = stream.getvalue()
    return result


def falls(history, key="train_loss", factor=1.0):
    values = history[key]
    return values[-1] < values[0] * factor


# ============================================================================ the examples

def test_thermometer_reaches_the_books_parameters(tmp_path):
    result = quiet("thermometer", tmp_path)         # the book's 5000 epochs at lr 1e-2
    m = result.metrics
    assert m["w"] == pytest.approx(5.3671, abs=0.01)
    assert m["b"] == pytest.approx(-17.3012, abs=0.01)
    assert m["train_loss"] == pytest.approx(2.9276, abs=1e-3)
    assert result.history["train_loss"][0] == pytest.approx(80.3643, abs=1e-3)   # book: epoch 1
    assert "epoch 5000/5000" in result.log and "w 5.3671" in result.log

    # the checkpoint holds the model and optimizer states, and they load back
    saved = torch.load(result.checkpoint)
    assert saved["example"] == "thermometer" and saved["epochs"] == 5000
    model = nn.Linear(1, 1)
    model.load_state_dict(saved["model"])
    assert model.weight.item() == pytest.approx(m["w"])
    assert model.bias.item() == pytest.approx(m["b"])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    optimizer.load_state_dict(saved["optimizer"])
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-2)
    with torch.no_grad():   # 0.1 · 100 °F through the fit: about 37.8 °C
        assert model(torch.tensor([[saved["input_scale"] * 100.0]])).item() == pytest.approx(
            5.3671 * 10 - 17.3012, abs=0.1)


def test_thermometer_mlp_learns_and_validates():
    result = quiet("thermometer", model="mlp", epochs=300)
    h = result.history
    assert result.name == "thermometer-mlp"
    assert h["train_loss"][-1] < h["train_loss"][0] / 3
    assert len(h["val_loss"]) == 300 and h["val_loss"][-1] < h["val_loss"][0]
    assert "w" not in result.metrics


def test_wine_beats_the_majority_answer(tmp_path):
    result = quiet("wine", tmp_path, epochs=3)
    m = result.metrics
    assert 0.40 < m["baseline_accuracy"] < 0.50      # score 6 is ~45% of the white wines
    assert m["val_accuracy"] > m["baseline_accuracy"] + 0.05
    assert falls(result.history)

    # reload the checkpoint into a fresh model: the same validation accuracy comes out
    saved = torch.load(result.checkpoint)
    model = nn.Sequential(nn.Linear(11, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 10))
    model.load_state_dict(saved["model"])
    from tinygrad_edu.datasets import load_wine
    wine = load_wine()
    torch.manual_seed(0)                             # the run's seed gives the run's split
    order = torch.randperm(wine.data.shape[0])
    val = order[:wine.data.shape[0] // 5]
    x = (wine.data[val] - saved["feature_mean"]) / saved["feature_std"]
    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == wine.target[val]).float().mean().item()
    assert accuracy == pytest.approx(m["val_accuracy"], abs=1e-6)


def test_bikes_beats_both_baselines():
    result = quiet("bikes", epochs=3, batch_size=256)
    m = result.metrics
    assert m["baseline_same_rmse"] < m["baseline_mean_rmse"]
    assert m["val_rmse"] < 0.8 * m["baseline_same_rmse"]       # better than "same as now"
    assert falls(result.history, "train_rmse")
    # the RMSE is the loss (an MSE of scaled counts) in bikes: one scale for both splits
    assert m["val_rmse"] / m["val_loss"] ** 0.5 == pytest.approx(
        m["train_rmse"] / m["train_loss"] ** 0.5, rel=1e-6)


def test_mnist_mlp_learns_digits(tmp_path):
    result = quiet("mnist-mlp", tmp_path, epochs=2, limit=2000)
    m = result.metrics
    assert m["val_accuracy"] > 0.7                   # chance is 0.1
    assert falls(result.history)
    assert "2000 training images, 2000 validation images" in result.log
    saved = torch.load(result.checkpoint)
    assert saved["model"]["0.weight"].shape == (128, 784)
    assert set(saved["optimizer"]) == {"state", "param_groups"}
    # the cosine schedule has brought the rate from 1e-3 down to 0 at the end of the run
    assert saved["optimizer"]["param_groups"][0]["lr"] == pytest.approx(0.0, abs=1e-9)


def test_mnist_cnn_learns_digits():
    result = quiet("mnist-cnn", epochs=2, limit=800, batch_size=32)
    assert result.metrics["val_accuracy"] > 0.5      # chance is 0.1
    assert falls(result.history)


def test_moons_on_the_scalar_engine(tmp_path):
    result = quiet("moons", tmp_path, epochs=15)
    m = result.metrics
    assert m["train_accuracy"] >= 0.85 and m["val_accuracy"] >= 0.8
    assert falls(result.history)
    saved = torch.load(result.checkpoint)
    assert saved["model"]["parameters"].shape == (337,)
    assert saved["model"]["sizes"] == [2, 16, 16, 1]


def test_the_same_seed_gives_the_same_run():
    first = quiet("wine", epochs=1, limit=500, seed=3).metrics
    again = quiet("wine", epochs=1, limit=500, seed=3).metrics
    other = quiet("wine", epochs=1, limit=500, seed=4).metrics
    assert first == again
    assert first != other


def test_cuda_device_gives_the_cpu_result():
    cuda = pytest.importorskip("tinygrad_edu.cuda")
    if not cuda.is_available():
        pytest.skip("no CUDA device and the simulator is off")
    on_cpu = quiet("thermometer", epochs=4).metrics
    on_gpu = quiet("thermometer", epochs=4, device="cuda").metrics
    assert on_gpu["w"] == pytest.approx(on_cpu["w"], rel=1e-5)
    assert on_gpu["b"] == pytest.approx(on_cpu["b"], rel=1e-5, abs=1e-6)


# ============================================================================ files and messages

def test_learning_curves_png_or_a_message(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    result = quiet("thermometer", tmp_path / "a", epochs=30)
    assert result.plot == tmp_path / "a" / "thermometer.png"
    assert result.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(sys.modules, "matplotlib", None)    # as if it were not installed
    result = quiet("thermometer", tmp_path / "b", epochs=30)
    assert result.plot is None and result.checkpoint.is_file()
    assert not (tmp_path / "b" / "thermometer.png").exists()
    assert "matplotlib is not installed" in result.log


def test_command_line_run(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tinygrad_edu", "train", "thermometer",
                             "--epochs", "40", "--lr", "0.01", "--out", str(tmp_path / "o")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "epoch  1/40  train: loss 80.3643" in result.stdout
    assert "epoch 40/40" in result.stdout and "final: train_loss" in result.stdout
    assert (tmp_path / "o" / "thermometer.pt").is_file()
    assert "thermometer" in result.stderr              # the tqdm bar
    assert not (tmp_path / "tinygrad_edu_out").exists()


@pytest.mark.parametrize("args, message", [
    (["wine", "--epochs", "0"], "--epochs must be a positive whole number"),
    (["wine", "--lr", "-0.1"], "--lr must be a positive number"),
    (["wine", "--lr", "nan"], "--lr must be a positive number"),
    (["wine", "--batch-size", "0"], "--batch-size must be a positive whole number"),
    (["wine", "--seed", "-1"], "--seed must be a non-negative"),
    (["wine", "--limit", "1"], "--limit must be a whole number of at least 2"),
    (["wine", "--model", "mlp"], "wine has no model 'mlp'"),
    (["thermometer", "--model", "cnn"], "choices: linear, mlp"),
    (["wine", "--device", "tpu"], "--device 'tpu' is not a device"),
    (["moons", "--device", "cuda"], "moons runs on the scalar engine"),
    (["moons", "--batch-size", "8"], "--batch-size does not apply"),
])
def test_bad_options_exit_2_with_a_message(args, message, capsys, tmp_path):
    assert cli.main(["train", *args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())                  # nothing was written


@pytest.mark.parametrize("args", [["nope"], ["wine", "--epochs", "many"], ["wine", "--lr", "x"],
                                  []])
def test_unparsable_options_exit_2_with_usage(args, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", *args])
    assert exc.value.code == 2
    assert "usage: tinygrad-edu train" in capsys.readouterr().err


def test_out_that_is_a_file_exits_2(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert cli.main(["train", "moons", "--out", str(tmp_path / "file")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_missing_data_file_says_where_it_looked(tmp_path, monkeypatch, capsys):
    from tinygrad_edu import datasets

    def no_network(name, target):
        raise OSError("no network in this test")

    monkeypatch.setenv("TINYGRAD_EDU_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("TINYGRAD_EDU_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "_download", no_network)
    for name in ("wine", "bikes", "mnist-mlp"):
        assert cli.main(["train", name, "--out", str(tmp_path / "out")]) == 1
        err = capsys.readouterr().err
        assert "not found. Looked at:" in err and str(tmp_path / "data") in err, err
        assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_unknown_example_from_python():
    with pytest.raises(ExampleError, match="no example 'cifar'"):
        train("cifar")
    assert set(examples.EXAMPLES) == {"thermometer", "wine", "bikes", "mnist-mlp", "mnist-cnn",
                                      "moons"}
