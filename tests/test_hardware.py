"""Tests for banding_lib.hardware: which precision a run trains in, and what provenance records of the CPU."""
import pytest
import torch

from banding_lib import hardware


@pytest.mark.parametrize("units, amp, forced, want", [
    (True, True, "auto", "bf16"), (False, True, "auto", "fp32"), (True, False, "auto", "fp32"),
    (False, True, "bf16", "bf16"), (True, True, "fp32", "fp32"),
])
def test_precision_follows_the_cpus_bf16_units_unless_forced(monkeypatch, units, amp, forced, want):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(hardware, "cpu_has_bf16", lambda: units)
    assert hardware.precision(amp, forced) == want
    assert hardware.precision_note(want).startswith(f"precision {want}")


def test_a_bad_precision_says_which_are_valid():
    with pytest.raises(ValueError, match="'auto', 'bf16' or 'fp32'"):
        hardware.precision(True, "fp16")


def test_cpu_provenance_names_the_model_and_its_bf16_units():
    info = hardware.cpu()
    assert set(info) == {"model", "flags", "bf16_units"}
    assert info["bf16_units"] == any(f in info["flags"] for f in hardware.BF16_FLAGS)


def test_the_matmul_peak_is_a_positive_rate():
    assert hardware.matmul_peak(torch.float32, n=128, seconds=0.05) > 0
