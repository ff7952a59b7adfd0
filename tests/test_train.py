import pytest
import torch

from paperlib.data import get_dataset
from paperlib.models import SmallCNN
from paperlib.train import TrainConfig, accuracy, train_classifier


def _data():
    ds = get_dataset("printed_digits", "train", profile="smoke")
    return ds.tensors()


def test_loss_falls_and_beats_chance():
    x, y = _data()
    torch.manual_seed(0)
    model = SmallCNN(10, width=16)
    losses = train_classifier(model, x, y, TrainConfig(epochs=12, batch_size=32, lr=5e-3), progress=False)
    assert losses[-1] < 0.8 * losses[0]
    assert accuracy(model, x, y) > 0.3  # chance is 0.1


def test_same_seed_same_numbers():
    x, y = _data()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = SmallCNN(10, width=8)
        runs.append(train_classifier(model, x, y, TrainConfig(epochs=1, batch_size=64, seed=1), progress=False))
    assert runs[0] == runs[1]


@pytest.mark.parametrize("kwargs,match", [(dict(epochs=0), "epochs=0"), (dict(lr=0.0), "lr=0.0"),
                                          (dict(batch_size=0), "batch_size=0"),
                                          (dict(weight_decay=-1), "weight_decay")])
def test_bad_train_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_small_cnn_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_classes"):
        SmallCNN(1)
    with pytest.raises(ValueError, match="width"):
        SmallCNN(10, width=0)
