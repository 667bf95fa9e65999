"""The generic Trainer: learning, early stopping, resume, logs, config and 2-process DDP.

Run as a script (``torchrun --nproc_per_node 2 tests/test_multitask_training.py OUT``) this
module is the worker of the distributed test.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from MultiTaskLib.config import ConfigError, TrainConfig
from MultiTaskLib.distributed import cleanup, setup_distributed
from MultiTaskLib.loaders import make_loader
from MultiTaskLib.training import StepOutput, Trainer, format_postfix, move_to_device
from MultiTaskLib.weighting import DynamicWeightAverage, FixedWeighting, UncertaintyWeighting

TASKS = ["a", "b"]


class TwoTargets(Dataset):
    """x → (x·u, 10·x·v + noise): two regression tasks of different scale.

    With ``jitter`` every item draws NumPy noise, so a resumed run only matches a straight
    one if NumPy's generator state was restored too.
    """

    def __init__(self, count: int, seed: int, flip: bool = False, jitter: bool = False) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.inputs = torch.randn(count, 3, generator=generator)
        u = torch.tensor([1.0, -2.0, 0.5])
        v = torch.tensor([0.3, 0.8, -1.0])
        sign = -1.0 if flip else 1.0
        self.targets = sign * torch.stack([self.inputs @ u, 10 * self.inputs @ v], dim=1)
        self.targets[:, 1] += torch.randn(count, generator=generator)
        self.jitter = jitter

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int):
        x = self.inputs[index]
        if self.jitter:
            x = x + torch.from_numpy(np.random.normal(0, 0.01, 3).astype(np.float32))
        return {"x": x, "y": self.targets[index]}


class TwoHeads(nn.Module):
    def __init__(self, dropout: float = 0.0) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Dropout(dropout))
        self.head = nn.Linear(16, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))


def step(model: nn.Module, batch) -> StepOutput:
    prediction = model(batch["x"])
    error = (prediction - batch["y"]).abs()
    rmae_a = 100 * error[:, 0].sum() / batch["y"][:, 0].abs().sum()
    return StepOutput(losses={"a": error[:, 0].mean(), "b": error[:, 1].mean()},
                      metrics={"rmae_a": rmae_a})


def config(**overrides) -> TrainConfig:
    options = dict(epochs=4, batch_size=16, lr=0.01, seed=7, device="cpu", progress=False)
    options.update(overrides)
    return TrainConfig(**options)


def build(out_dir: Path, cfg: TrainConfig, weighting=None, dropout: float = 0.0,
          init_seed: int = 0) -> Trainer:
    torch.manual_seed(init_seed)
    model = TwoHeads(dropout)
    return Trainer(model, step, weighting or UncertaintyWeighting(TASKS), cfg, out_dir)


def loaders(cfg: TrainConfig, flip_val: bool = False, jitter: bool = False):
    train = make_loader(TwoTargets(64, seed=1, jitter=jitter), cfg, shuffle=True)
    val = make_loader(TwoTargets(32, seed=2, flip=flip_val), cfg, shuffle=False)
    return train, val


def states_equal(first: dict, second: dict) -> bool:
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


# --- learning ----------------------------------------------------------------------------

def test_trainer_reduces_loss_and_learns_sigma(tmp_path):
    cfg = config(epochs=6, lr=0.05)
    trainer = build(tmp_path, cfg)
    result = trainer.fit(*loaders(cfg))
    train_total = result.series("train", "total")
    val_b = result.series("val", "loss_b")
    assert len(train_total) == 6 and len(val_b) == 6
    assert train_total[-1] < 0.7 * train_total[0]
    assert val_b[-1] < 0.7 * val_b[0]
    # σ is optimised with the network: the 10x larger task ends with the larger σ.
    sigma = result.history[-1].weighting
    assert sigma["b"] > sigma["a"] and sigma["b"] != pytest.approx(1.0)
    assert result.history[-1].metrics["rmae_a"] > 0


def test_dwa_weights_follow_epochs_in_trainer(tmp_path):
    cfg = config(epochs=3)
    result = build(tmp_path, cfg, DynamicWeightAverage(TASKS)).fit(*loaders(cfg))
    weights = [record.weighting for record in result.history if record.split == "train"]
    assert weights[0] == weights[1] == {"a": 1.0, "b": 1.0}
    train = [record.losses for record in result.history if record.split == "train"]
    ratio = {task: train[1][task] / train[0][task] for task in TASKS}
    expected = np.exp(np.array([ratio["a"], ratio["b"]]) / 2.0)
    assert weights[2]["a"] == pytest.approx(2 * expected[0] / expected.sum(), rel=1e-9)


def test_non_finite_loss_stops_with_clear_error(tmp_path):
    def bad_step(model, batch):
        output = step(model, batch)
        output.losses["b"] = output.losses["b"] * float("nan")
        return output

    cfg = config(epochs=1)
    torch.manual_seed(0)
    trainer = Trainer(TwoHeads(), bad_step, FixedWeighting({"a": 1, "b": 1}), cfg, tmp_path)
    with pytest.raises(FloatingPointError, match="epoch 1, batch 0"):
        trainer.fit(loaders(cfg)[0])


def test_grad_clip_bounds_sgd_updates(tmp_path):
    cfg = config(epochs=1, optimizer="sgd", momentum=0.0, lr=0.1, grad_clip=1e-6,
                 weight_decay=0.0)
    trainer = build(tmp_path, cfg)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.fit(loaders(cfg)[0])
    # 4 steps of lr·‖g‖ ≤ 0.1·1e-6 each: no parameter can move further than 4e-7.
    change = max((trainer.model.state_dict()[k] - before[k]).abs().max().item() for k in before)
    assert 0 < change <= 4e-7 * 1.001


# --- early stopping ----------------------------------------------------------------------

def test_early_stopping_triggers_and_restores_best(tmp_path):
    # Validation targets are the negated training targets: the better the fit, the worse
    # the validation loss, so epoch 1 is best and patience 2 stops after epoch 3.
    cfg = config(epochs=20, patience=2)
    weighting = FixedWeighting({"a": 0.5, "b": 0.5})
    trainer = build(tmp_path / "stop", cfg, weighting)
    result = trainer.fit(*loaders(cfg, flip_val=True))
    assert result.stopped_early
    assert result.best_epoch == 1 and result.last_epoch == 3
    assert len(result.history) == 6
    val_totals = result.series("val", "total", "weight")
    assert result.best_value == val_totals[0] == min(val_totals)

    best = torch.load(tmp_path / "stop" / "best.pt", weights_only=True)
    last = torch.load(tmp_path / "stop" / "last.pt", weights_only=True)
    assert best["epoch"] == 1 and last["epoch"] == 3
    assert states_equal(trainer.model.state_dict(), best["model"])
    assert not states_equal(trainer.model.state_dict(), last["model"])
    # The restored weights are exactly those after one epoch of an identical run.
    one = build(tmp_path / "one", config(epochs=1), FixedWeighting({"a": 0.5, "b": 0.5}))
    one.fit(*loaders(config(epochs=1), flip_val=True))
    assert states_equal(trainer.model.state_dict(), one.model.state_dict())


def test_without_restore_best_model_keeps_last_weights(tmp_path):
    cfg = config(epochs=20, patience=1, restore_best=False)
    trainer = build(tmp_path, cfg, FixedWeighting({"a": 1.0, "b": 1.0}))
    trainer.fit(*loaders(cfg, flip_val=True))
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    assert states_equal(trainer.model.state_dict(), last["model"])


# --- checkpoints and resume --------------------------------------------------------------

def test_resume_continues_bit_for_bit(tmp_path):
    # Dropout (torch RNG), NumPy jitter in the dataset and shuffling all consume random
    # numbers, so equality needs every generator, the optimiser and σ restored.
    straight = build(tmp_path / "straight", config(epochs=4), dropout=0.2)
    straight_result = straight.fit(*loaders(config(epochs=4), jitter=True))

    first = build(tmp_path / "split", config(epochs=2), dropout=0.2)
    first.fit(*loaders(config(epochs=2), jitter=True))
    # A fresh process would build the model from scratch: different initial weights.
    second = build(tmp_path / "split", config(epochs=4), dropout=0.2, init_seed=99)
    resumed = second.fit(*loaders(config(epochs=4), jitter=True), resume=True)

    last_a = torch.load(tmp_path / "straight" / "last.pt", weights_only=True)
    last_b = torch.load(tmp_path / "split" / "last.pt", weights_only=True)
    assert last_a["epoch"] == last_b["epoch"] == 4
    assert states_equal(last_a["model"], last_b["model"])
    assert states_equal(last_a["weighting"], last_b["weighting"])
    assert states_equal(straight.model.state_dict(), second.model.state_dict())
    assert states_equal(straight.weighting.state_dict(), second.weighting.state_dict())
    assert resumed.best_epoch == straight_result.best_epoch
    for column in ("loss_a", "loss_b", "total", "sigma_b"):
        assert resumed.series("train", column) == straight_result.series("train", column)
    # The resumed log holds all four epochs, not just the last two.
    with open(tmp_path / "split" / "train_log.csv", newline="") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == \
            ["1", "1", "2", "2", "3", "3", "4", "4"]


def test_resume_without_checkpoint_is_an_error(tmp_path):
    cfg = config(epochs=1)
    with pytest.raises(FileNotFoundError, match="last.pt"):
        build(tmp_path, cfg).fit(*loaders(cfg), resume=True)


def test_checkpoint_contents_load_weights_only(tmp_path):
    cfg = config(epochs=2, checkpoint_every=5)
    build(tmp_path, cfg).fit(*loaders(cfg))
    last = torch.load(tmp_path / "last.pt", weights_only=True)  # written at the final epoch
    assert {"model", "weighting", "optimizer", "epoch", "rng", "config", "history"} <= set(last)
    assert last["epoch"] == 2
    assert TrainConfig.from_dict(last["config"]) == cfg
    assert set(last["rng"]) >= {"python", "numpy", "torch"}
    assert "log_scale" in last["weighting"]


# --- logging -----------------------------------------------------------------------------

def test_csv_log_has_one_row_per_epoch_and_split(tmp_path):
    cfg = config(epochs=3)
    result = build(tmp_path, cfg).fit(*loaders(cfg))
    with open(tmp_path / "train_log.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == ["epoch", "split", "loss_a", "loss_b", "total", "sigma_a",
                                 "sigma_b", "lr", "seconds", "rmae_a"]
    assert [(row["epoch"], row["split"]) for row in rows] == [
        ("1", "train"), ("1", "val"), ("2", "train"), ("2", "val"), ("3", "train"), ("3", "val")]
    for row, record in zip(rows, result.history, strict=True):
        assert float(row["loss_b"]) == pytest.approx(record.losses["b"])
        assert float(row["sigma_b"]) == pytest.approx(record.weighting["b"])
        assert float(row["lr"]) == pytest.approx(0.01)
        assert float(row["seconds"]) >= 0


def test_progress_shows_task_losses_and_sigma(tmp_path, capsys):
    postfix = format_postfix({"a": 0.123456, "b": 2.0}, {"a": 0.9, "b": 1.5}, "sigma")
    assert postfix == {"a": "0.1235", "b": "2", "sigma_a": "0.9", "sigma_b": "1.5"}
    cfg = config(epochs=1, progress=True)
    build(tmp_path, cfg).fit(*loaders(cfg))
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "sigma_a=" in err and "sigma_b=" in err


def test_move_to_device_handles_nested_batches():
    batch = {"x": torch.ones(2), "pair": (torch.zeros(1), [torch.ones(1), "name"])}
    moved = move_to_device(batch, torch.device("cpu"))
    assert torch.equal(moved["x"], batch["x"]) and moved["pair"][1][1] == "name"
    assert isinstance(moved["pair"], tuple) and isinstance(moved["pair"][1], list)


# --- configuration -----------------------------------------------------------------------

def test_config_defaults_follow_huang_et_al():
    cfg = TrainConfig()
    assert (cfg.lr, cfg.weight_decay, cfg.batch_size, cfg.optimizer) == (5e-4, 1e-4, 4, "adam")


def test_config_unknown_key_names_it_in_one_line(tmp_path):
    with pytest.raises(ValueError, match="unknown training option 'learning_rate'") as error:
        TrainConfig.from_dict({"epochs": 3, "learning_rate": 0.1})
    assert isinstance(error.value, ConfigError) and "\n" not in str(error.value)
    path = tmp_path / "train.yaml"
    path.write_text("epochs: 3\npatiense: 4\n")
    with pytest.raises(ConfigError, match="'patiense' in .*train.yaml"):
        TrainConfig.load(path)


def test_config_loads_yaml_and_json(tmp_path):
    (tmp_path / "a.yaml").write_text("epochs: 12\nlr: 5e-4\npatience: 3\ngrad_clip: null\n")
    cfg = TrainConfig.load(tmp_path / "a.yaml")
    assert (cfg.epochs, cfg.lr, cfg.patience, cfg.grad_clip) == (12, 5e-4, 3, None)
    (tmp_path / "b.json").write_text(json.dumps({"batch_size": 8, "optimizer": "AdamW"}))
    cfg = TrainConfig.load(tmp_path / "b.json")
    assert (cfg.batch_size, cfg.optimizer) == (8, "adamw")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("options, name", [({"epochs": 0}, "epochs"), ({"lr": "fast"}, "lr"),
                                           ({"optimizer": "rmsprop"}, "optimizer"),
                                           ({"batch_size": 2.5}, "batch_size"),
                                           ({"device": "tpu"}, "device"),
                                           ({"progress": "yes"}, "progress")])
def test_config_rejects_bad_values(options, name):
    with pytest.raises(ConfigError, match=f"'{name}'"):
        TrainConfig.from_dict(options)


def test_unknown_monitor_is_a_config_error(tmp_path):
    cfg = config(epochs=1, monitor="dice")
    with pytest.raises(ConfigError, match="monitor"):
        build(tmp_path, cfg).fit(*loaders(cfg))


# --- distributed -------------------------------------------------------------------------

def ddp_worker(out_dir: Path) -> None:
    """One torchrun process: train 2 epochs on its shard, save its final state."""
    context = setup_distributed(device="cpu")
    try:
        cfg = config(epochs=2, batch_size=8, lr=0.02)
        # Different initial weights per rank: DDP must broadcast rank 0's.
        torch.manual_seed(100 + context.rank)
        trainer = Trainer(TwoHeads(), step, UncertaintyWeighting(TASKS), cfg, out_dir / "run",
                          context=context)
        train = make_loader(TwoTargets(64, seed=1), cfg, shuffle=True, context=context)
        val = make_loader(TwoTargets(32, seed=2), cfg, shuffle=False, context=context)
        result = trainer.fit(train, val)
        torch.save({"model": trainer.model.state_dict(),
                    "weighting": trainer.weighting.state_dict(),
                    "totals": [record.total for record in result.history],
                    "batches": len(train), "world_size": context.world_size},
                   out_dir / f"rank{context.rank}.pt")
    finally:
        cleanup()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_ddp_two_processes_end_with_identical_weights(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[1])}
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
               "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
               "--master_port", str(free_port()), __file__, str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert ranks[0]["world_size"] == 2
    assert ranks[0]["batches"] == ranks[1]["batches"] == 64 // 2 // 8  # each rank its half
    assert states_equal(ranks[0]["model"], ranks[1]["model"])
    assert states_equal(ranks[0]["weighting"], ranks[1]["weighting"])
    assert ranks[0]["totals"] == ranks[1]["totals"]
    sigma = 1e-3 + ranks[0]["weighting"]["log_scale"].exp()
    assert not torch.allclose(sigma, torch.ones(2))  # σ was trained (and synchronised)
    assert (tmp_path / "run" / "last.pt").is_file()
    assert (tmp_path / "run" / "train_log.csv").is_file()


if __name__ == "__main__":
    ddp_worker(Path(sys.argv[1]))
