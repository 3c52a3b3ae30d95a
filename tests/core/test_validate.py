import numpy as np
import pytest

from paperlab._validate import check_array, check_choice, check_int, check_labels_pm1, check_real


def test_check_real_accepts_and_converts():
    assert check_real("x", 3, 0, 5) == 3.0
    assert check_real("x", np.float32(0.5), 0, 1, lo_open=True) == 0.5


@pytest.mark.parametrize("value,kw,msg", [
    (0.0, dict(lo=0, lo_open=True), r"gamma must be in \(0, inf\), got 0"),
    (2.0, dict(lo=0, hi=1), r"gamma must be in \[0, 1\], got 2"),
    (float("nan"), dict(), "gamma must be finite"),
    ("a", dict(), "gamma must be a real number"),
    (True, dict(), "gamma must be a real number"),
])
def test_check_real_rejects(value, kw, msg):
    with pytest.raises(ValueError, match=msg):
        check_real("gamma", value, **kw)


def test_check_int():
    assert check_int("n", 5, 1, 10) == 5
    assert check_int("n", 5.0, 1, 10) == 5
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 10\], got 11"):
        check_int("n", 11, 1, 10)
    with pytest.raises(ValueError, match="n must be an integer, got 2.5"):
        check_int("n", 2.5)


def test_check_choice():
    assert check_choice("m", "a", ["a", "b"]) == "a"
    with pytest.raises(ValueError, match=r"m must be one of \['a', 'b'\], got 'c'"):
        check_choice("m", "c", ["a", "b"])


def test_check_array():
    a = check_array("A", [[1, 2], [3, 4]], ndim=2, shape=(None, 2))
    assert a.shape == (2, 2)
    with pytest.raises(ValueError, match="A must be 1-dimensional"):
        check_array("A", [[1]], ndim=1)
    with pytest.raises(ValueError, match=r"A must have shape \(any, 3\)"):
        check_array("A", [[1, 2]], shape=(None, 3))
    with pytest.raises(ValueError, match="finite"):
        check_array("A", [1.0, np.inf])
    with pytest.raises(ValueError, match="array of numbers"):
        check_array("A", ["x"])


def test_check_labels_pm1():
    assert check_labels_pm1("y", [1, -1, 1], n=3).dtype == float
    with pytest.raises(ValueError, match=r"only the labels \+1 and -1, found \[0.0\]"):
        check_labels_pm1("y", [1, 0])
    with pytest.raises(ValueError, match="y must have 3 entries"):
        check_labels_pm1("y", [1, -1], n=3)
