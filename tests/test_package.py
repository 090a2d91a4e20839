"""The package's public surface."""

import smscampaign as sc


def test_all_is_sorted_and_importable():
    assert sc.__all__ == sorted(sc.__all__)
    for name in sc.__all__:
        assert hasattr(sc, name), name


def test_errors_share_one_root():
    for name in sc.__all__:
        obj = getattr(sc, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, sc.SmsCampaignError), name
