"""`bzgate guards add/list/remove`: the password asked twice and never echoed, the file written
whole, readable by its owner only, holding scrypt hashes with their salt and parameters, never
the password; and the guards file's check of a password."""

import json
import stat

from click.testing import CliRunner

from bzgate.cli import main
from bzgate.monitor.guards import SCRYPT, Guards


def guards(runner, tmp_path, *args, input=None):
    return runner.invoke(main, ["guards", *args, "--guards", str(tmp_path / "guards.json")],
                         input=input)


def test_guards_add_list_and_remove(tmp_path):
    runner, path = CliRunner(), tmp_path / "guards.json"
    added = guards(runner, tmp_path, "add", "lan", input="mật-khẩu-1\nmật-khẩu-1\n")
    assert added.exit_code == 0, added.output
    assert "mật-khẩu-1" not in added.output and f"guard lan added to {path}" in added.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    entry = json.loads(path.read_text())["guards"]["lan"]
    assert entry["scrypt"] == SCRYPT and len(bytes.fromhex(entry["salt"])) == 16
    assert "mật-khẩu-1" not in path.read_text()
    mismatch = guards(runner, tmp_path, "add", "minh", input="password-a\npassword-b\n"
                      "password-c\npassword-c\n")
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output  # asked again
    assert guards(runner, tmp_path, "list").output == "lan\nminh\n"
    again = guards(runner, tmp_path, "add", "lan", input="mật-khẩu-2\nmật-khẩu-2\n")
    assert again.exit_code == 0 and "has a new password" in again.output
    assert json.loads(path.read_text())["guards"]["lan"]["salt"] != entry["salt"]
    assert Guards(path).check("lan", "mật-khẩu-2") and not Guards(path).check("lan", "mật-khẩu-1")
    removed = guards(runner, tmp_path, "remove", "minh")
    assert removed.exit_code == 0 and guards(runner, tmp_path, "list").output == "lan\n"
    assert not Guards(path).check("minh", "password-c")
    assert not list(tmp_path.glob("*.tmp"))


def test_guards_refuses_bad_names_short_passwords_and_unknown_names(tmp_path):
    runner = CliRunner()
    bad = guards(runner, tmp_path, "add", "lan anh", input="password-1\npassword-1\n")
    assert bad.exit_code == 2 and "guard name 'lan anh'" in bad.stderr
    short = guards(runner, tmp_path, "add", "lan", input="short\nshort\n")
    assert short.exit_code == 2 and "at least 8 characters" in short.stderr
    unknown = guards(runner, tmp_path, "remove", "nobody")
    assert unknown.exit_code == 2 and "no guard 'nobody'" in unknown.stderr
    assert guards(runner, tmp_path, "list").output == ""
    (tmp_path / "guards.json").write_text("[]")
    broken = guards(runner, tmp_path, "list")
    assert broken.exit_code == 2 and "is not a guards file" in broken.stderr
