"""The seed page's curl commands, run unchanged but for host and key, against the sandbox."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from sandbox.models import SandboxImage
from tests.astria.conftest import SANDBOX_KEY
from tests.conftest import BASE_DIR

DOCS = BASE_DIR / "docs" / "astria"


def seed_curl_blocks() -> list[str]:
    """The page's bash code blocks: POST /tunes (three forms), then POST …/prompts."""
    page = (DOCS / "flux-api-usage.md").read_text()
    return re.findall(r"```bash showLineNumbers\n(.*?)```", page, re.S)


def tune_forms() -> dict[str, str]:
    block = seed_curl_blocks()[0]
    parts = re.split(
        r"^(# With images as multipart/form-data|# With image_urls as form-data|"
        r"# As JSON)$",
        block,
        flags=re.M,
    )
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def example_keys(name: str) -> set[str]:
    return set(json.loads((DOCS / "examples" / name).read_text()))


def run(script: str, *, sandbox, loopback, cwd) -> tuple[int, dict]:
    """Run a seed snippet with only the hosts and the key changed; return status and body."""
    script = (
        script.replace("https://api.astria.ai", sandbox.url)
        .replace("https://i.imgur.com", loopback.url)
        .replace("https://optional-callback-url.com", loopback.url)
    )
    # The snippet stays as printed; this wrapper only makes curl report the status too.
    prelude = "curl() { command curl -sS -w '\\n%{http_code}' \"$@\"; }\n"
    result = subprocess.run(
        ["bash", "-c", prelude + script],
        cwd=cwd,
        env={"API_KEY": SANDBOX_KEY, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    body, status = result.stdout.rsplit("\n", 1)
    return int(status), json.loads(body)


@pytest.fixture
def photos_dir(tmp_path, loopback):
    for n in range(1, 5):
        (tmp_path / f"{n}.jpg").write_bytes(loopback.files[f"/photo-{n - 1}.jpeg"][0])
    return tmp_path


@pytest.mark.parametrize(
    "form",
    ["# With images as multipart/form-data", "# With image_urls as form-data", "# As JSON"],
)
def test_each_seed_tune_create_answers_201_with_the_documented_shape(
    form, sandbox, loopback, photos_dir
):
    status, tune = run(tune_forms()[form], sandbox=sandbox, loopback=loopback, cwd=photos_dir)
    assert status == 201, tune
    assert example_keys("tune-object-trained.json") <= set(tune)
    assert tune["model_type"] == "lora"
    assert tune["base_tune_id"] == 1504944
    assert SandboxImage.objects.filter(tune_id=tune["id"]).count() == 4
    assert tune["orig_images"] == []  # the sandbox never hands the photos back

    # Trained at once (timers at zero), and told so at its callback, wrapped in "tune".
    callbacks = [r for r in loopback.received if r.body["tune"]["id"] == tune["id"]]
    assert len(callbacks) == 1
    expected = {
        "# With images as multipart/form-data": "/webhooks/astria?user_id=1&tune_id=1",
        "# With image_urls as form-data": "/to-your-service-when-ready?user_id=1&tune_id=1",
        "# As JSON": "/to-your-service-when-ready?user_id=1&tune_id=1",
    }
    assert callbacks[0].path == expected[form]
    assert callbacks[0].body["tune"]["trained_at"] is not None


def test_the_seed_prompt_on_flux_answers_201_with_the_documented_shape(
    sandbox, loopback, photos_dir
):
    _, tune = run(
        tune_forms()["# With images as multipart/form-data"],
        sandbox=sandbox,
        loopback=loopback,
        cwd=photos_dir,
    )
    script = seed_curl_blocks()[1].replace("<lora:tune_id:strength>", f"<lora:{tune['id']}:1>")
    assert f'-F prompt[text]="<lora:{tune["id"]}:1> a painting of ohwx man' in script
    # The page's own command cannot work with any curl: `-F name=<…` makes curl read a file
    # called "lora:…", so the prompt never leaves the machine (curl exit 26). `--form-string`
    # sends the text as it is; that is the one change besides host, key and the LoRA id.
    with pytest.raises(AssertionError, match="Failed to open/read local data"):
        run(script, sandbox=sandbox, loopback=loopback, cwd=photos_dir)
    script = script.replace("-F prompt[text]=", "--form-string prompt[text]=")

    status, prompt = run(script, sandbox=sandbox, loopback=loopback, cwd=photos_dir)

    assert status == 201, prompt
    assert example_keys("prompt-create-response.json") <= set(prompt)
    assert prompt["tune_id"] == 1504944
    assert prompt["text"].startswith(f"<lora:{tune['id']}:1> a painting of ohwx man")
    prompt_callbacks = [r.body["prompt"] for r in loopback.received if "prompt" in r.body]
    assert [p["id"] for p in prompt_callbacks] == [prompt["id"]]
    assert len(prompt_callbacks[0]["images"]) == prompt["num_images"]
