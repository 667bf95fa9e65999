"""``qmri train`` under torchrun: 2 CPU processes on gloo end with identical weights."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist

from tests.network_fixtures import write_config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                    reason="torch.distributed with gloo is not available")
def test_two_process_gloo_run_keeps_ranks_identical(tmp_path):
    config = write_config(tmp_path, training={"epochs": 2, "batch_size": 2, "device": "cpu",
                                              "progress": False, "weighting_lr": 0.05})
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
               "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
               "-m", "QMRIMappingLib.cli", "train", "--config", str(config), "--out", str(out),
               "--save-rank-weights", "--quiet"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("trained tiny") == 1  # only rank 0 reports and writes
    rank0 = torch.load(out / "rank0.pt", weights_only=True)
    rank1 = torch.load(out / "rank1.pt", weights_only=True)
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    saved = torch.load(out / "tiny.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(saved[key], rank0[key]) for key in rank0)
    initial = torch.load(out / "best.pt", weights_only=True)
    assert initial["epoch"] in (1, 2)
    log = (out / "train_log.csv").read_text().splitlines()
    assert len(log) == 1 + 4  # header + (train, val) x 2 epochs, written once
