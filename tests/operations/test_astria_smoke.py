"""`manage.py astria_smoke`, run as a deployment would run it, against the sandbox on the live
server, whose training and generation run on a real Celery worker."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.astria.conftest import SANDBOX_KEY, Sandbox, sandbox  # noqa: F401 - fixtures used here
from tests.conftest import BASE_DIR, subprocess_env, worker_base_env

STEPS = [
    "create tune",
    "train",
    "create prompt",
    "generate",
    "fetch image",
    "delete prompt",
    "delete tune",
]


def smoke(
    sandbox: Sandbox,  # noqa: F811
    tmp_path: Path,
    *,
    timeout: str = "30",
    **env: str,
) -> subprocess.CompletedProcess[str]:
    child = subprocess_env(
        **{
            **worker_base_env(tmp_path),
            "ASTRIA_BASE_URL": sandbox.url,
            "ASTRIA_API_KEY": SANDBOX_KEY,
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", "astria_smoke", "--poll", "0.2", "--timeout", timeout],
        cwd=BASE_DIR,
        env=child,
        capture_output=True,
        text=True,
        timeout=120,
    )


def steps_printed(stdout: str) -> list[str]:
    """The steps in the order printed: lines like `    1.2 s  train: trained`."""
    return [
        line.split(" s  ", 1)[1].split(":", 1)[0] for line in stdout.splitlines() if " s  " in line
    ]


def requests_made(sandbox: Sandbox) -> list[tuple[str, str, int]]:  # noqa: F811
    return [(r["method"], r["path"], r["status"]) for r in sandbox.requests_log()]


@pytest.mark.postgres
@pytest.mark.redis
def test_it_runs_a_tune_and_a_prompt_end_to_end_and_cleans_up(
    sandbox: Sandbox,  # noqa: F811
    celery_worker,
    tmp_path,
):
    sandbox.configure(train_seconds=1, generate_seconds=1)

    result = smoke(sandbox, tmp_path, ASTRIA_BRANCH="flux1")

    assert result.returncode == 0, result.stdout + result.stderr
    assert steps_printed(result.stdout) == STEPS
    assert f"Astria at {sandbox.url}, branch flux1" in result.stdout
    assert "1024×1024 from" in result.stdout
    assert "every step passed" in result.stdout
    assert SANDBOX_KEY not in result.stdout + result.stderr
    made = requests_made(sandbox)
    assert ("POST", "/tunes", 201) in made
    assert ("POST", "/tunes/1504944/prompts", 201) in made
    tune_id = re.search(r"create tune: tune (\d+)", result.stdout)[1]
    prompt_id = re.search(r"create prompt: prompt (\d+)", result.stdout)[1]
    assert ("DELETE", f"/prompts/{prompt_id}", 200) in made
    assert ("DELETE", f"/tunes/{tune_id}", 200) in made
    assert list(sandbox.client().tunes_list()) == []


@pytest.mark.postgres
@pytest.mark.redis
def test_the_fast_branch_needs_no_training_time(
    sandbox: Sandbox,  # noqa: F811
    celery_worker,
    tmp_path,
):
    sandbox.configure(train_seconds=600, generate_seconds=600)

    result = smoke(sandbox, tmp_path, ASTRIA_BRANCH="fast")

    assert result.returncode == 0, result.stdout + result.stderr
    assert steps_printed(result.stdout) == STEPS
    assert "branch fast" in result.stdout


@pytest.mark.postgres
@pytest.mark.redis
def test_a_prompt_that_ends_with_user_error_fails_the_generate_step_and_still_cleans_up(
    sandbox: Sandbox,  # noqa: F811
    celery_worker,
    tmp_path,
):
    sandbox.configure(train_seconds=0, generate_seconds=0, prompt_user_error=1)

    result = smoke(sandbox, tmp_path)

    assert result.returncode == 1
    assert "astria_smoke failed at step 'generate'" in result.stderr
    assert "user_error" in result.stderr
    assert steps_printed(result.stdout) == [*STEPS[:4], "delete prompt", "delete tune"]
    assert "every step passed" not in result.stdout
    assert list(sandbox.client().tunes_list()) == []


def test_a_wrong_key_fails_the_first_step_and_is_never_printed(sandbox, tmp_path):  # noqa: F811
    result = smoke(sandbox, tmp_path, ASTRIA_API_KEY="sd_wrong_key_4f9a")

    assert result.returncode == 1
    assert "astria_smoke failed at step 'create tune': Astria 401" in result.stderr
    assert steps_printed(result.stdout) == ["create tune"]
    assert "sd_wrong_key_4f9a" not in result.stdout + result.stderr


def test_a_tune_that_never_trains_fails_the_train_step_at_the_timeout(
    sandbox: Sandbox,  # noqa: F811
    tmp_path,
):
    sandbox.configure(train_seconds=0, generate_seconds=0, never_train=True)

    result = smoke(sandbox, tmp_path, timeout="1")

    assert result.returncode == 1
    assert "astria_smoke failed at step 'train': not trained after 1 s" in result.stderr
    assert steps_printed(result.stdout) == ["create tune", "train", "delete tune"]
    assert list(sandbox.client().tunes_list()) == []
