import pytest

import kernn


def test_set_and_get_num_threads_round_trip():
    before = kernn.get_num_threads()
    try:
        kernn.set_num_threads(1)
        assert kernn.get_num_threads() == 1
    finally:
        kernn.set_num_threads(before)


def test_set_num_threads_rejects_zero():
    with pytest.raises(ValueError, match="set_num_threads"):
        kernn.set_num_threads(0)


def _run_python(code, **env):
    import os
    import subprocess
    import sys

    environment = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.skipif(not kernn._C.openmp_enabled(), reason="the thread pool is OpenMP's")
def test_forked_child_runs_kernels_on_one_thread():
    # A child forked after a parallel region waited forever on libgomp's pool in its first
    # parallel region (multiprocessing's default start method on Linux).
    code = (
        "import os, numpy as np, kernn\n"
        "kernn.set_num_threads(2)\n"
        "a = np.random.default_rng(0).standard_normal((300, 300))\n"
        "kernn._C.gemm(a, a)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    ok = np.allclose(kernn._C.gemm(a, a), a @ a) and kernn.get_num_threads() == 1\n"
        "    os._exit(0 if ok else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "assert os.waitstatus_to_exitcode(status) == 0, status\n"
        "assert kernn.get_num_threads() == 2\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not kernn._C.openmp_enabled(), reason="OMP_NUM_THREADS is OpenMP's")
def test_absurd_omp_num_threads_is_bounded_at_import():
    # OMP_NUM_THREADS=100000 bypassed set_num_threads' bound: every parallel region started
    # 100000 threads (a minute each).
    result = _run_python("import kernn; print(kernn.get_num_threads())", OMP_NUM_THREADS="100000")
    assert result.returncode == 0, result.stderr
    assert 256 <= int(result.stdout) < 100000
    assert "OMP_NUM_THREADS asks for 100000 threads" in result.stderr
