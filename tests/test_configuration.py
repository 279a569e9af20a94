import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_variable_the_settings_read_is_listed_in_env_example():
    settings_source = (ROOT / "kefu" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', settings_source))
    listed = set(
        re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(encoding="utf-8"), re.M)
    )

    assert read, "the settings read no variables: the pattern above is out of date"
    assert sorted(read - listed) == []


def test_importing_the_settings_leaves_the_environment_and_the_disk_as_they_were(tmp_path):
    # A copy of the settings, so that BASE_DIR is an empty folder where a var/ made on import
    # would show.
    (tmp_path / "kefu").mkdir()
    (tmp_path / "kefu" / "__init__.py").touch()
    shutil.copy(ROOT / "kefu" / "settings.py", tmp_path / "kefu" / "settings.py")
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "EMAIL_PORT", "PYTHONPATH"}
    }
    script = (
        "import json, os, kefu.settings as s; print(json.dumps("
        "[s.EMAIL_PORT, os.environ.get('EMAIL_PORT'), s.DATABASES['default']['NAME']]))"
    )

    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**environment, "EMAIL_PORT": "", "SECRET_KEY": "x", "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )

    # The empty variable means the default and is still in the environment, empty.
    assert json.loads(done.stdout) == [25, "", str(tmp_path / "var" / "kefu.sqlite3")]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kefu"]
