"""The ready-made CNNs (tinygrad_edu.models): shapes, printed form, and a few training steps
that must match PyTorch's identical model started from the same weights."""
import numpy as np
import pytest
import torch
import torch.nn as tnn

import tinygrad_edu as tg
from tinygrad_edu.models import LeNet, SmallCNN


def torch_small_cnn(n_classes=10, in_channels=3, image_size=32, dropout=0.3):
    side = image_size // 4
    net = tnn.Sequential(
        tnn.Conv2d(in_channels, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
        tnn.Linear(64 * side * side, 128), tnn.ReLU(), tnn.Dropout(dropout),
        tnn.Linear(128, n_classes))
    model = tnn.Module()
    model.net = net
    model.forward = net.forward
    return model


def torch_lenet(n_classes=10):
    model = tnn.Module()
    model.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
                                    tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2))
    model.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(),
                                      tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, n_classes))
    model.forward = lambda x: model.classifier(model.features(x))
    return model


def test_shapes_and_parameters():
    tg.manual_seed(0)
    assert SmallCNN()(tg.randn(2, 3, 32, 32)).shape == (2, 10)
    assert SmallCNN(5, in_channels=1, image_size=28)(tg.randn(3, 1, 28, 28)).shape == (3, 5)
    assert LeNet()(tg.randn(4, 1, 28, 28)).shape == (4, 10)
    counts = {name: sum(p.numel() for p in m.parameters())
              for name, m in (("small", SmallCNN()), ("lenet", LeNet()))}
    assert counts == {"small": sum(p.numel() for p in torch_small_cnn().parameters()),
                      "lenet": sum(p.numel() for p in torch_lenet().parameters())}
    assert counts["lenet"] == 61706                  # LeNet-5's well-known size
    with pytest.raises(ValueError, match="multiple of 4"):
        SmallCNN(image_size=30)


def test_printed_like_pytorch():
    lines = repr(SmallCNN()).splitlines()
    assert lines[0] == "SmallCNN("
    assert lines[1:] == repr(torch_small_cnn()).splitlines()[1:]
    assert repr(LeNet()).splitlines()[1:] == repr(torch_lenet()).splitlines()[1:]


def copy_into(ours, theirs):
    ours.load_state_dict({k: tg.tensor(v.detach().numpy().copy())
                          for k, v in theirs.state_dict().items()})


@pytest.mark.parametrize("which", ["lenet", "small"])
def test_training_steps_match_pytorch(which):
    torch.manual_seed(0)
    if which == "lenet":
        theirs, ours = torch_lenet().double(), LeNet().double()
        shape, optim = (8, 1, 28, 28), "Adam"
    else:   # no dropout, so both take the same steps; a small image keeps the test quick
        theirs = torch_small_cnn(4, 3, 8, dropout=0.0).double()
        ours = SmallCNN(4, 3, 8, dropout=0.0).double()
        shape, optim = (6, 3, 8, 8), "SGD"
    copy_into(ours, theirs)
    kw = dict(lr=1e-3) if optim == "Adam" else dict(lr=0.05, momentum=0.9)
    opt_t = getattr(torch.optim, optim)(theirs.parameters(), **kw)
    opt_o = getattr(tg.optim, optim)(ours.parameters(), **kw)
    rng = np.random.default_rng(0)
    for step in range(3):
        x = rng.standard_normal(shape)
        y = rng.integers(0, 4, shape[0])
        loss_t = tnn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        loss_o = tg.nn.functional.cross_entropy(ours(tg.tensor(x)), tg.tensor(y))
        assert loss_o.item() == pytest.approx(loss_t.item(), rel=1e-10)
        for opt, loss in ((opt_t, loss_t), (opt_o, loss_o)):
            opt.zero_grad()
            loss.backward()
            opt.step()
    ours_params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(ours_params[name].detach().numpy(), p.detach().numpy(),
                                   rtol=1e-9, atol=1e-12, err_msg=name)


def test_float32_forward_matches_pytorch():
    torch.manual_seed(1)
    theirs, ours = torch_lenet(), LeNet()
    copy_into(ours, theirs)
    x = np.random.default_rng(1).random((5, 1, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
