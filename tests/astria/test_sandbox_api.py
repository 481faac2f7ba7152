"""The sandbox's own surface, as a raw HTTP caller sees it."""

from __future__ import annotations

import requests

from tests.astria.conftest import OTHER_KEY, SANDBOX_KEY
from tests.images import photo_bytes

AUTH = {"Authorization": f"Bearer {SANDBOX_KEY}"}


def test_it_answers_401_without_a_bearer_key(sandbox):
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Token sd_sandbox"}):
        response = requests.get(f"{sandbox.url}/tunes", headers=headers, timeout=10)
        assert response.status_code == 401
        assert "error" in response.json()


def test_paths_answer_with_and_without_json(sandbox):
    for path in ("/tunes/1504944", "/tunes/1504944.json"):
        response = requests.get(sandbox.url + path, headers=AUTH, timeout=10)
        assert response.status_code == 200
        assert response.json()["id"] == 1504944


def test_a_form_encoded_prompt_with_rails_keys_is_accepted(sandbox, loopback):
    response = requests.post(
        f"{sandbox.url}/tunes/1504944/prompts",
        data={
            "prompt[text]": "a lighthouse at dusk",
            "prompt[num_images]": "1",
            "prompt[super_resolution]": "true",
        },
        headers=AUTH,
        timeout=10,
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["num_images"], body["super_resolution"]) == (1, True)


def test_a_tune_with_prompts_attributes_runs_them_after_training(sandbox, loopback):
    response = requests.post(
        f"{sandbox.url}/tunes",
        json={
            "tune": {
                "title": "Cat - UUID - 1",
                "name": "cat",
                "branch": "fast",
                "image_urls": [f"{loopback.url}/photo-0.jpeg"],
                "prompts_attributes": [{"text": "ohwx cat as an astronaut", "num_images": 1}],
            }
        },
        headers=AUTH,
        timeout=10,
    )
    assert response.status_code == 201
    tune_id = response.json()["id"]
    prompts = requests.get(f"{sandbox.url}/tunes/{tune_id}/prompts", headers=AUTH, timeout=10)
    [prompt] = prompts.json()
    assert prompt["text"] == "ohwx cat as an astronaut"
    assert len(prompt["images"]) == 1


def test_a_create_without_the_root_key_is_refused(sandbox):
    response = requests.post(
        f"{sandbox.url}/tunes", json={"title": "x", "name": "man"}, headers=AUTH, timeout=10
    )
    assert response.status_code == 422
    assert response.json() == {"error": "param is missing or the value is empty: tune"}


def test_a_file_that_is_not_an_image_is_refused(sandbox):
    response = requests.post(
        f"{sandbox.url}/tunes",
        data={"tune[title]": "x", "tune[name]": "man"},
        files=[
            ("tune[images][]", ("a.jpg", b"%PDF-1.4", "image/jpeg")),
            ("tune[images][]", ("b.jpg", photo_bytes(), "image/jpeg")),
        ],
        headers=AUTH,
        timeout=10,
    )
    assert response.status_code == 422
    assert response.json() == {"error": "images[0] (a.jpg) is not an image"}


def test_paging_has_a_shallow_offset_and_a_limit(sandbox):
    response = requests.get(f"{sandbox.url}/tunes?offset=201", headers=AUTH, timeout=10)
    assert response.status_code == 400
    response = requests.get(f"{sandbox.url}/tunes?limit=abc", headers=AUTH, timeout=10)
    assert response.status_code == 400


def test_a_wrong_method_is_405(sandbox):
    response = requests.put(f"{sandbox.url}/tunes", headers=AUTH, timeout=10)
    assert response.status_code == 405


def test_only_the_main_key_controls_the_sandbox(sandbox):
    url = f"{sandbox.url}/_sandbox/config"
    assert requests.get(url, timeout=10).status_code == 401
    other = {"Authorization": f"Bearer {OTHER_KEY}"}
    assert requests.put(url, json={}, headers=other, timeout=10).status_code == 403
    bad = requests.put(url, json={"faults": [{"status": 418}]}, headers=AUTH, timeout=10)
    assert bad.status_code == 422


def test_the_request_log_records_method_path_status_and_time(sandbox):
    requests.get(f"{sandbox.url}/tunes/1504944.json", headers=AUTH, timeout=10)
    requests.get(f"{sandbox.url}/tunes/999", headers=AUTH, timeout=10)
    log = [(r["method"], r["path"], r["status"]) for r in sandbox.requests_log()]
    assert log == [("GET", "/tunes/1504944", 200), ("GET", "/tunes/999", 404)]
    assert all(r["duration_ms"] >= 0 and r["at"].endswith("Z") for r in sandbox.requests_log())


def test_negative_or_empty_paging_is_refused(sandbox):
    for query in ("offset=-1", "limit=0", "before_id=-5"):
        response = requests.get(f"{sandbox.url}/tunes?{query}", headers=AUTH, timeout=10)
        assert response.status_code == 400, query


def test_prompts_attributes_are_checked_like_prompts(sandbox, loopback):
    for attributes, message in (
        ({}, "text can't be blank"),
        ({"text": "ohwx", "num_images": 0}, "num_images must be between 1 and 8"),
    ):
        response = requests.post(
            f"{sandbox.url}/tunes",
            json={
                "tune": {
                    "title": "t",
                    "name": "man",
                    "prompts_attributes": [attributes],
                    "image_urls": [f"{loopback.url}/photo-0.jpeg"],
                }
            },
            headers=AUTH,
            timeout=10,
        )
        assert (response.status_code, response.json()) == (422, {"error": message})


def test_oversized_fields_are_refused_not_crashed_on(sandbox, loopback):
    tune = {"title": "t" * 501, "name": "man", "image_urls": [f"{loopback.url}/photo-0.jpeg"]}
    response = requests.post(f"{sandbox.url}/tunes", json={"tune": tune}, headers=AUTH, timeout=10)
    assert response.status_code == 422
    assert response.json()["error"].startswith("title:")
    prompt = {"text": "x", "w": 40000, "h": 40000}
    response = requests.post(
        f"{sandbox.url}/tunes/1504944/prompts", json={"prompt": prompt}, headers=AUTH, timeout=10
    )
    assert response.status_code == 422
    assert response.json()["error"].startswith("w:")


def test_equal_prompts_are_one_prompt_and_any_difference_makes_another_when_idempotent(sandbox):
    sandbox.configure(train_seconds=0, generate_seconds=0, idempotent_prompts=True)

    def create(**fields):
        body = {"prompt": {"text": "a lighthouse", "num_images": 1, **fields}}
        return requests.post(
            f"{sandbox.url}/tunes/1504944/prompts", json=body, headers=AUTH, timeout=10
        ).json()["id"]

    first = create(cfg_scale=3)
    assert create(cfg_scale=3) == first
    assert create(cfg_scale=4) != first
    assert create(cfg_scale=3, super_resolution=True) != first


def test_a_fault_with_a_broken_pattern_is_refused_and_methods_ignore_case(sandbox):
    url = f"{sandbox.url}/_sandbox/config"
    bad = requests.put(url, json={"faults": [{"path": "("}]}, headers=AUTH, timeout=10)
    assert bad.status_code == 422
    assert "not a regular expression" in bad.json()["error"]
    sandbox.configure(faults=[{"method": "get", "path": "^/tunes$", "status": 500}])
    assert requests.get(f"{sandbox.url}/tunes", headers=AUTH, timeout=10).status_code == 500


def test_a_lora_has_no_downloadable_weights(sandbox, loopback):
    tune = requests.post(
        f"{sandbox.url}/tunes",
        json={
            "tune": {
                "title": "t",
                "name": "man",
                "model_type": "lora",
                "base_tune_id": 1504944,
                "image_urls": [f"{loopback.url}/photo-0.jpeg"],
            }
        },
        headers=AUTH,
        timeout=10,
    ).json()
    assert tune["trained_at"] is None or tune["ckpt_url"] is None
    trained = requests.get(f"{sandbox.url}/tunes/{tune['id']}", headers=AUTH, timeout=10).json()
    assert trained["trained_at"] and trained["ckpt_url"] is None and trained["ckpt_urls"] == []
