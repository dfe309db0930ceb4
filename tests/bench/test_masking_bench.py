from __future__ import annotations

import pytest

from bench.masking import INPUTS, main


def test_the_masking_bench_times_every_input(capsys: pytest.CaptureFixture[str]) -> None:
    main()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[0].strip() for line in lines] == list(INPUTS)
    assert all(line.endswith(" ms") for line in lines)
