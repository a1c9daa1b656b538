"""The ``mambaic`` command line: outputs, exit codes, one-line errors, batches, --json."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mambaic.cli.main import SUBCOMMANDS, main
from mic_testing import make_tiny_weights, sample_image

CORE = Path(__file__).resolve().parents[1] / "core"


@pytest.fixture
def workdir(tmp_path, monkeypatch, weights):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAMBAIC_WEIGHTS", str(weights))
    sample_image(40, 24).save("a.png")
    sample_image(17, 9, "L", seed=1).save("b.jpg")
    return tmp_path


@pytest.fixture(scope="module")
def encoded_a(weights, tmp_path_factory) -> bytes:
    """The .mic of the workdir's a.png, made once (the tiny model is the slow part)."""
    folder = tmp_path_factory.mktemp("encoded")
    sample_image(40, 24).save(folder / "a.png")
    assert main(["encode", str(folder / "a.png"), "--weights", str(weights), "--quiet"]) == 0
    return (folder / "a.mic").read_bytes()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_encode_decode_info_single_file(workdir, capsys):
    code, out, err = run(capsys, "encode", "a.png", "-q", "2", "-m", "source=test")
    assert code == 0 and err == ""
    assert "a.png → a.mic" in out and "bpp" in out
    mic = workdir / "a.mic"
    assert mic.exists()

    code, out, err = run(capsys, "info", "a.mic")
    assert code == 0 and "40x24 RGB" in out and "slice 5" in out and "payload" in out

    code, out, _ = run(capsys, "info", "--json", "a.mic")
    info = json.loads(out)
    assert info["total_bytes"] == mic.stat().st_size
    assert info["bpp"] == 8 * mic.stat().st_size / (40 * 24)
    assert info["metadata"] == {"source": "test"} and len(info["slices"]) == 5

    code, out, err = run(capsys, "decode", "a.mic", "-o", "back.webp")
    assert code == 0 and err == "" and (workdir / "back.webp").exists()
    original = (workdir / "a.png").read_bytes()
    code, out, err = run(capsys, "decode", "a.mic")  # a.png is the original: kept
    assert code == 1 and "already exists" in err and (workdir / "a.png").read_bytes() == original


def test_existing_outputs_need_force(workdir, capsys, encoded_a):
    (workdir / "a.mic").write_bytes(encoded_a)
    before = encoded_a
    code, out, err = run(capsys, "encode", "a.png", "-q", "5")
    assert code == 1 and err.count("\n") == 1 and "already exists" in err and "--force" in err
    assert (workdir / "a.mic").read_bytes() == before
    assert run(capsys, "encode", "a.png", "-q", "5", "--force")[0] == 0
    assert (workdir / "a.mic").read_bytes() != before


def test_never_overwrites_the_input(workdir, capsys, encoded_a):
    (workdir / "a.mic").write_bytes(encoded_a)
    code, _, err = run(capsys, "decode", "a.mic", "-o", "a.mic", "--force")
    assert code == 1 and "input" in err
    assert (workdir / "a.mic").read_bytes()[:4] == b"\x89MIC"


def test_batch_with_failures_continues_and_exits_1(workdir, capsys):
    (workdir / "junk.png").write_bytes(b"junk")
    code, out, err = run(capsys, "encode", "a.png", "missing.png", "junk.png", "b.jpg")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in err
    assert lines[0].startswith("mambaic: error: missing.png: ")
    assert lines[1].startswith("mambaic: error: junk.png: ")
    assert (workdir / "a.mic").exists() and (workdir / "b.mic").exists()
    assert out.count("→") == 2


def test_folders_globs_and_output_folder(workdir, capsys):
    code, out, err = run(capsys, "encode", str(workdir), "-o", "coded")
    assert code == 0, err
    assert sorted(p.name for p in (workdir / "coded").iterdir()) == ["a.mic", "b.mic"]
    code, out, err = run(capsys, "decode", "coded/a*.mic", "-o", "decoded/")
    assert code == 0, err
    assert sorted(p.name for p in (workdir / "decoded").iterdir()) == ["a.png"]
    code, _, err = run(capsys, "info", "nothing/*.mic")
    assert code == 1 and "no matching files" in err


def test_several_inputs_need_an_output_folder(workdir, capsys):
    (workdir / "out.mic").write_bytes(b"")
    code, _, err = run(capsys, "encode", "a.png", "b.jpg", "-o", "out.mic")
    assert code == 2 and "must be a folder" in err


def test_outputs_clashing_within_a_batch(workdir, capsys):
    sample_image(8, 8).save("b.png")
    code, _, err = run(capsys, "encode", "b.png", "b.jpg")
    assert code == 1 and "also the output of" in err


def test_corrupt_mic_is_one_line(workdir, capsys, encoded_a):
    data = bytearray(encoded_a)
    data[-10] ^= 0xFF
    (workdir / "bad.mic").write_bytes(bytes(data))
    (workdir / "short.mic").write_bytes(bytes(data[:50]))
    for name, message in (("bad.mic", "checksum"), ("short.mic", "truncated")):
        code, _, err = run(capsys, "decode", name)
        assert code == 1 and message in err and err.count("\n") == 1
        code, _, err = run(capsys, "info", name)
        assert code == 1 and message in err


def test_wrong_weights_name_the_needed_hash(workdir, capsys, tmp_path_factory, encoded_a):
    (workdir / "a.mic").write_bytes(encoded_a)
    other = make_tiny_weights(tmp_path_factory.mktemp("other") / "other.safetensors", seed=7)
    code, _, err = run(capsys, "decode", "a.mic", "-o", "x.png", "--weights", str(other))
    assert code == 1 and "needs model 'tiny' with weights sha256" in err


def test_missing_weights_and_device(workdir, capsys):
    code, _, err = run(capsys, "encode", "a.png", "--weights", "nowhere.safetensors")
    assert code == 1 and err.startswith("mambaic: error: ") and "Traceback" not in err
    if not __import__("torch").cuda.is_available():
        code, _, err = run(capsys, "encode", "a.png", "--device", "cuda")
        assert code == 1 and "CUDA" in err


def test_debug_shows_the_traceback(workdir, capsys):
    code, _, err = run(capsys, "decode", "--debug", "missing.mic")
    assert code == 1 and "Traceback" in err


@pytest.mark.parametrize("argv", [[], ["encode"], ["encode", "a.png", "-q", "9"],
                                  ["encode", "a.png", "--tile", "100"], ["frobnicate"]])
def test_usage_errors_exit_2(workdir, capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        code = main(argv)
        raise SystemExit(code)
    assert exit_info.value.code == 2


def test_python_dash_m_and_help():
    env = {"PYTHONPATH": str(CORE), "PATH": ""}
    done = subprocess.run([sys.executable, "-m", "mambaic", "--help"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0
    assert all(name in done.stdout for name in SUBCOMMANDS)
    done = subprocess.run([sys.executable, "-m", "mambaic", "encode", "--help"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and "--quality" in done.stdout and "--force" in done.stdout


# ---- issue #17: hostile names, metadata and arguments; special outputs ----------------------

def test_info_escapes_file_names_and_metadata(workdir, capsys, weights):
    from mambaic.codec.codec import load_codec

    data = load_codec(weights).compress(sample_image(16, 16), 3.0,
                                        metadata={"note": "\u202eevil\nline 2"})
    (workdir / "m.mic").write_bytes(data)
    (workdir / "x\x1b[2J.mic").write_bytes(b"not a mic file")
    code, out, err = run(capsys, "info", "m.mic", "x\x1b[2J.mic")
    assert code == 1
    assert "\\u202eevil\\\\nline 2" in out and "\u202e" not in out
    assert err.count("\n") == 1 and "x\\x1b[2J.mic" in err and "\x1b" not in err


def test_info_batch_survives_output_errors(workdir, encoded_a):
    (workdir / "a.mic").write_bytes(encoded_a)
    (workdir / "c.mic").write_bytes(encoded_a)
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "mambaic", "info", "a.mic", "c.mic"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
                              env={"PYTHONPATH": str(CORE), "PATH": ""})
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 3 and all("No space left on device" in line for line in lines)
    assert lines[0].startswith("mambaic: error: a.mic") and "c.mic" in lines[1]
    assert lines[2].startswith("mambaic: error: standard output")


def test_encode_batch_survives_a_full_stdout(workdir, weights):
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "mambaic", "encode", "a.png", "b.jpg"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=300,
                              env={"PYTHONPATH": str(CORE), "PATH": "",
                                   "MAMBAIC_WEIGHTS": str(weights)})
    assert done.returncode == 1
    assert done.stderr == "mambaic: error: standard output: No space left on device\n"
    assert (workdir / "a.mic").exists() and (workdir / "b.mic").exists()


@pytest.mark.parametrize("item", ["k=" + "v" * 70_000, "k=\udcff", "\x1b=v"])
def test_bad_metadata_is_a_usage_error_before_the_model(workdir, capsys, monkeypatch, item):
    import mambaic.codec.codec

    monkeypatch.setattr(mambaic.codec.codec, "load_codec", lambda *a: pytest.fail("loaded"))
    code, _, err = run(capsys, "encode", "a.png", "-m", item)
    assert code == 2 and err.startswith("mambaic: error: -m: metadata") and err.count("\n") == 1
    assert "internal error" not in err and "\udcff" not in err


def test_a_bad_metadata_key_is_named_once_escaped(workdir, capsys):
    """The key is shown as the user typed it, its control character named, not escaped twice."""
    code, _, err = run(capsys, "encode", "a.png", "-m", "a\x01b=v")
    assert code == 2 and "metadata key 'a<U+0001>b' contains the control character U+0001" in err
    assert "\\" not in err


def test_tile_above_the_decoder_bound_is_a_usage_error(workdir, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["encode", "a.png", "--tile", "4096"])
    assert exit_info.value.code == 2 and "2048" in capsys.readouterr().err


def test_decode_max_pixels_and_large_image_warning(workdir, capsys, encoded_a, monkeypatch):
    (workdir / "a.mic").write_bytes(encoded_a)  # 40x24 = 960 pixels
    code, _, err = run(capsys, "decode", "a.mic", "-o", "small.png", "--max-pixels", "959")
    assert code == 1 and err.count("\n") == 1 and "--max-pixels is 959" in err
    assert not (workdir / "small.png").exists()
    monkeypatch.setattr("mambaic.cli.decode.LARGE_IMAGE_PIXELS", 900)
    code, _, err = run(capsys, "decode", "a.mic", "-o", "big.png", "--max-pixels", "960")
    assert code == 0 and err.startswith("mambaic: warning: a.mic: 40x24 is 0.0 Mpx")


def test_standard_output(workdir, capsysbinary, encoded_a):
    assert main(["encode", "a.png", "-o", "-"]) == 0
    out, err = capsysbinary.readouterr()
    assert out[:4] == b"\x89MIC" and b"a.png \xe2\x86\x92 -" in err
    (workdir / "a.mic").write_bytes(encoded_a)
    assert main(["decode", "a.mic", "-o", "-"]) == 0
    out, _ = capsysbinary.readouterr()
    assert out.startswith(b"\x89PNG") and not (workdir / "-").exists()
    (workdir / "c.mic").write_bytes(encoded_a)
    assert main(["decode", "a.mic", "c.mic", "-o", "-"]) == 2


def test_special_outputs_are_never_replaced(workdir, capsys, encoded_a):
    (workdir / "a.mic").write_bytes(encoded_a)
    os.mkfifo("pipe.png")
    (workdir / "real.png").write_bytes(b"keep")
    os.symlink("real.png", "link.png")
    code, _, err = run(capsys, "decode", "a.mic", "-o", "link.png", "--force")
    assert code == 1 and "symbolic link" in err
    assert (workdir / "link.png").is_symlink() and (workdir / "real.png").read_bytes() == b"keep"
    reader = subprocess.Popen(["cat", "pipe.png"], stdout=subprocess.PIPE)
    code, _, err = run(capsys, "decode", "a.mic", "-o", "pipe.png", "--force")
    assert code == 0, err
    assert reader.communicate(timeout=60)[0].startswith(b"\x89PNG")
    assert stat.S_ISFIFO(os.lstat("pipe.png").st_mode)


@pytest.mark.parametrize("redirect", ["pipe", "file"])
def test_dev_stdout_is_written_not_replaced(workdir, encoded_a, weights, redirect):
    """``-o /dev/stdout --force``, as root too. The test names its own link to /proc/self/fd/1
    (what /dev/stdout is), so a regression replaces that link, not the system's /dev/stdout."""
    (workdir / "a.mic").write_bytes(encoded_a)
    os.symlink("/proc/self/fd/1", "stdout")
    with open("out.bin", "wb") as sink:
        done = subprocess.run(
            [sys.executable, "-m", "mambaic", "decode", "a.mic", "-o", "stdout", "--force"],
            stdout=subprocess.PIPE if redirect == "pipe" else sink, stderr=subprocess.PIPE,
            timeout=300, env={"PYTHONPATH": str(CORE), "PATH": "", "MAMBAIC_WEIGHTS": str(weights)})
    output = done.stdout if redirect == "pipe" else (workdir / "out.bin").read_bytes()
    assert done.returncode == 0, done.stderr
    assert output.startswith(b"\x89PNG") and b"\xe2\x86\x92" in done.stderr
    assert os.readlink("stdout") == "/proc/self/fd/1"


def test_result_and_usage_lines_escape_names(workdir, capsys):
    (workdir / "e\x1b]0;x\x07.png").write_bytes((workdir / "a.png").read_bytes())
    code, out, err = run(capsys, "encode", "e\x1b]0;x\x07.png")
    assert code == 0 and "e\\x1b]0;x\\x07.png → e\\x1b]0;x\\x07.mic" in out and "\x1b" not in out
    (workdir / "o\x9b.mic").write_bytes(b"")
    code, _, err = run(capsys, "encode", "a.png", "b.jpg", "-o", "o\x9b.mic")
    assert code == 2 and "o\\x9b.mic: -o must be a folder" in err and "\x9b" not in err


def test_encode_effort_reports_what_refinement_kept_and_excludes_refine(workdir, capsys):
    code, out, _ = run(capsys, "encode", "a.png", "--effort", "1")
    assert code == 0 and (workdir / "a.mic").exists()
    assert "effort 1 (3 refinement steps), refined coding kept in" in out
    with pytest.raises(SystemExit) as exc:
        main(["encode", "a.png", "--effort", "1", "--refine", "2", "--force"])
    assert exc.value.code == 2
    assert "not allowed with" in capsys.readouterr().err
