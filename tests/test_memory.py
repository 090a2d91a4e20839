from __future__ import annotations

import platform
import sys

import pyarrow as pa
import pytest

from smscampaign.core.allocator import _malloc_trim, release_memory


def test_release_memory_hands_arrows_free_pages_back_and_keeps_live_data():
    data = pa.array([str(i) for i in range(100_000)], pa.large_string())
    freed = pa.array([str(i) * 10 for i in range(100_000)], pa.large_string())
    del freed
    release_memory()
    assert data[99_999].as_py() == "99999"  # live buffers are untouched
    release_memory()  # and it may be called any number of times


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_glibc_heaps_are_trimmed_on_linux():
    trim = _malloc_trim()
    assert trim is not None and trim(0) in (0, 1)
