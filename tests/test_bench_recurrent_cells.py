"""tools/bench_recurrent.py times the LSTM and the GRU too (tiny shapes, one repeat, both clocks; no timing is
asserted); tests/test_bench_04.py tests that `make bench` (tools/bench.py) runs it."""
import importlib.util

import pytest

TINY = {"V": 11, "D": 3, "H": 4, "N": 2, "T": 3}


def load(root, name):
    spec = importlib.util.spec_from_file_location(name, root / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("clock", ["wall", "cpu"])
def test_lstm_and_gru_rows(root, clock):
    rows = load(root, "bench_recurrent").bench(cells=["lstm", "gru"], repeats=1, warmup=0, shapes=TINY, clock=clock)
    assert [(r["kind"], r["cell"], r["dtype"]) for r in rows] == [
        (kind, cell, dtype) for kind in ("LM step", "layer") for cell in ("lstm", "gru") for dtype in ("float32", "float64")]
    assert all(r["numpy_ms"] > 0 for r in rows)
