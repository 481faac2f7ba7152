from __future__ import annotations

import re

from tests.conftest import BASE_DIR


def test_every_variable_the_settings_read_is_in_env_example():
    source = (BASE_DIR / "photoshoot" / "settings.py").read_text()
    read = set(re.findall(r'(?:env(?:\.\w+)?|_required_in_production)\(\s*"([A-Z_]+)"', source))
    read |= set(re.findall(r"env\.str\('([A-Z_]+)'", source))
    listed = set(re.findall(r"^#?([A-Z_]+)=", (BASE_DIR / ".env.example").read_text(), re.M))
    assert len(read) > 30
    assert read - listed == set()
    assert listed - read == set()
