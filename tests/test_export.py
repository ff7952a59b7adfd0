"""paperlib.export: cached runs and task vectors as self-describing folders, verified when loaded back."""

import json

import pytest
import torch

from paperlib import export as ex
from paperlib import finetune as ft
from paperlib.clip_tasks import encoder_state
from paperlib.linearize import LinearizedModel
from paperlib.models.clip import load_clip
from paperlib.store import CODE_VERSION, load_tensors, read_record, run_key, store_run
from paperlib.task_vectors import TaskVector

WEIGHTS = "toy:shipped:0123456789abcdef"


@pytest.fixture(scope="module")
def bundle():
    return load_clip("smoke")


@pytest.fixture(scope="module")
def linearized_run(bundle):
    """A real cached fine-tuning run: NTK-linearized (ch5 Eq. (2)), two smoke iterations."""
    return ft.finetune(ft.FinetuneConfig(task="printed_digits", paradigm="linearized", profile="smoke", iterations=2),
                       bundle, progress=False)


def _vector(seed=0) -> TaskVector:
    g = torch.Generator().manual_seed(seed)
    return TaskVector({"a.weight": torch.randn(3, 4, generator=g), "b.bias": torch.randn(4, generator=g)})


@pytest.fixture
def vector_folder(tmp_path):
    return ex.export_task_vector(_vector(), tmp_path / "tv", meta={"weights": WEIGHTS, "tasks": ["x", "y"]})


def test_a_cached_finetuning_run_round_trips_bit_identically(linearized_run, bundle, tmp_path):
    out = ex.export_run("finetune", linearized_run, tmp_path / "run")
    loaded = ex.load_export(out)
    stored = load_tensors(linearized_run.vector_path)
    assert (out / "tau.safetensors").read_bytes() == linearized_run.vector_path.read_bytes()
    assert set(loaded.tensors) == set(stored)
    assert all(loaded.tensors[n].dtype == v.dtype and torch.equal(loaded.tensors[n], v) for n, v in stored.items())
    # The run as the store identifies it: the same key from the stored config (a dict) as from the FinetuneRun.
    path = linearized_run.vector_path
    record = read_record(path.with_name(path.name.split(".")[0] + ".json"))
    assert ex.export_run("finetune", record["config"], tmp_path / "again") is not None
    assert ex.load_export(tmp_path / "again").config["source"]["key"] == loaded.config["source"]["key"]
    c = loaded.config
    assert c["format"] == ex.FORMAT and c["format_version"] == ex.FORMAT_VERSION
    assert c["paperlib"]["code_version"] == CODE_VERSION
    assert c["source"]["config"] == record["config"] and c["source"]["result"] == linearized_run.result
    s = loaded.summary
    assert (s["kind"], s["profile"], s["task"], s["paradigm"], s["seed"]) == ("finetune", "smoke", "printed_digits",
                                                                              "linearized", 0)
    assert s["weights"] == record["config"]["weights"] and s["model"] == bundle.name
    assert c["architecture"]["parameters"] == ex.parameter_list(stored)
    assert loaded.role == "task_vector" and loaded.task_vector() == TaskVector(stored)
    # A linearized vector moves θ of f_lin (ch5 Eq. (2)); the encoder itself is refused.
    with pytest.raises(ex.ExportError, match="LinearizedModel"):
        ex.load_into(bundle.image_encoder(), out)
    lin = LinearizedModel(bundle.image_encoder())
    theta0 = {k: v.clone() for k, v in encoder_state(lin).items()}
    ex.load_into(lin, out)
    want = TaskVector(stored).apply(theta0)
    assert all(torch.equal(encoder_state(lin)[n], want[n]) for n in want)


def test_a_task_vector_round_trips_and_sums(vector_folder, tmp_path):
    loaded = ex.load_export(vector_folder)
    assert loaded.task_vector() == _vector()
    assert loaded.config["source"]["meta"] == {"weights": WEIGHTS, "tasks": ["x", "y"]}
    assert loaded.summary["model"] == "toy" and loaded.summary["task"] == "x+y"
    other = ex.export_task_vector(_vector(1), tmp_path / "tv1", meta={"weights": WEIGHTS})
    total = loaded.task_vector() + ex.load_export(other).task_vector()
    assert total == _vector() + _vector(1)
    # Loading into a model adds α τ to its parameters (ch5 Eq. (1)).
    model = torch.nn.ModuleDict({"a": torch.nn.Linear(4, 3, bias=False), "b": torch.nn.Linear(3, 4)})
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ex.load_into(model, vector_folder, alpha=0.5)
    assert torch.allclose(model.a.weight, before["a.weight"] + 0.5 * _vector()["a.weight"])
    assert torch.equal(model.b.weight, before["b.weight"])


def test_a_task_vector_needs_the_weights_it_is_relative_to(tmp_path):
    with pytest.raises(ValueError, match="weights"):
        ex.export_task_vector(_vector(), tmp_path / "tv", meta={"tasks": ["x"]})
    assert not (tmp_path / "tv").exists()


def test_a_flipped_byte_names_the_file_and_both_digests(vector_folder):
    path = vector_folder / "tau.safetensors"
    recorded = json.loads((vector_folder / "config.json").read_text())["files"]["tau.safetensors"]["sha256"]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ex.ExportError, match="tau.safetensors failed its SHA-256") as err:
        ex.load_export(vector_folder)
    assert recorded in str(err.value) and ex.file_sha256(path) in str(err.value)


def test_a_missing_or_extra_file_is_named(vector_folder):
    (vector_folder / "notes.txt").write_text("hi")
    with pytest.raises(ex.ExportError, match="notes.txt.*does not list"):
        ex.load_export(vector_folder)
    (vector_folder / "notes.txt").unlink()
    (vector_folder / "tau.safetensors").unlink()
    with pytest.raises(ex.ExportError, match="tau.safetensors listed in config.json but missing"):
        ex.load_export(vector_folder)


def test_an_edited_config_or_an_unknown_format_version_is_refused(vector_folder):
    path = vector_folder / "config.json"
    config = json.loads(path.read_text())
    path.write_text(json.dumps({**config, "format_version": 99}))
    with pytest.raises(ex.ExportError, match="format_version 99 .*newer paperlib"):
        ex.load_export(vector_folder)
    config["source"]["meta"]["tasks"] = ["z"]
    path.write_text(json.dumps(config))
    with pytest.raises(ex.ExportError, match="config.json was changed or damaged"):
        ex.load_export(vector_folder)


def test_a_mismatched_architecture_names_the_parameters(vector_folder):
    state = {"a.weight": torch.zeros(3, 5), "c.bias": torch.zeros(4)}
    with pytest.raises(ex.ExportError) as err:
        ex.load_export(vector_folder, expect=state)
    msg = str(err.value)
    assert "1 of its 2 parameters are not in the model (first: 'b.bias')" in msg
    assert "1 shapes differ (first: 'a.weight': export (3, 4) vs model (3, 5))" in msg
    ex.load_export(vector_folder, expect={"a.weight": torch.zeros(3, 4), "b.bias": torch.zeros(4), "x": torch.ones(1)})


def test_a_whole_state_must_match_both_ways_and_features_are_not_loaded(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    config = {"domains": ["d"], "depth": 32, "width": 0.25, "profile": "smoke", "seed": 0}
    store_run("ch4_single", config, {"ok": 1}, {"model": model.state_dict(), "probe": {"features": torch.ones(2, 3)}},
              root=tmp_path / "runs")
    out = ex.export_run("ch4_single", config, tmp_path / "out", root=tmp_path / "runs")
    loaded = ex.load_export(out, expect=model)
    assert set(loaded.files) == {"model", "probe"} and loaded.config["files"]["probe.safetensors"]["role"] == "features"
    bigger = torch.nn.Sequential(*model, torch.nn.Linear(1, 1))
    with pytest.raises(ex.ExportError, match=r"2 of the model's 6 entries are not in the export \(first: '3.weight'"):
        ex.load_export(out, expect=bigger)
    fresh = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    ex.load_into(fresh, out)
    assert all(torch.equal(fresh.state_dict()[k], v) for k, v in model.state_dict().items())


def test_a_run_that_is_not_cached_says_how_to_compute_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"not in the cache.*paperlib\.finetune\.finetune"):
        ex.export_run("finetune", {"task": "textures", "profile": "smoke"}, tmp_path / "out", root=tmp_path / "runs")
    with pytest.raises(TypeError, match="FinetuneRun"):
        ex.export_run("finetune", ft.FinetuneConfig(task="textures", profile="smoke"), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_damaged_cached_run_is_not_exported(tmp_path):
    config = {"task": "textures", "profile": "smoke", "weights": WEIGHTS}
    store_run("finetune", config, {}, {"tau": _vector().to_tensors()}, root=tmp_path / "runs")
    path = next((tmp_path / "runs" / "finetune").glob("*.tau.safetensors"))
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ex.ExportError, match=f"{path.name} failed its checksum.*compute the run again"):
        ex.export_run("finetune", config, tmp_path / "out", root=tmp_path / "runs")
    path.unlink()
    with pytest.raises(ex.ExportError, match=r"its tensors \['tau'\] are missing"):
        ex.export_run("finetune", config, tmp_path / "out", root=tmp_path / "runs")
    assert not (tmp_path / "out").exists()


def test_an_existing_folder_is_replaced_only_on_request_and_a_failure_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "tv"
    out.mkdir()  # an empty folder is fine
    ex.export_task_vector(_vector(), out, meta={"weights": WEIGHTS})
    with pytest.raises(FileExistsError, match="overwrite=True"):
        ex.export_task_vector(_vector(1), out, meta={"weights": WEIGHTS})
    assert ex.load_export(out).task_vector() == _vector()
    ex.export_task_vector(_vector(1), out, meta={"weights": WEIGHTS}, overwrite=True)
    assert ex.load_export(out).task_vector() == _vector(1)

    def dying(*a, **k):
        raise RuntimeError("killed mid-export")

    monkeypatch.setattr(ex, "_write_config", dying)
    with pytest.raises(RuntimeError):
        ex.export_task_vector(_vector(2), out, meta={"weights": WEIGHTS}, overwrite=True)
    with pytest.raises(RuntimeError):
        ex.export_task_vector(_vector(2), tmp_path / "new", meta={"weights": WEIGHTS})
    assert ex.load_export(out).task_vector() == _vector(1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tv"]  # no half-written folder, no temporary left


def test_cli_lists_exports_and_verifies(tmp_path, capsys):
    runs = tmp_path / "runs"
    config = {"task": "textures", "paradigm": "linear_only", "variant": 1, "profile": "smoke", "seed": 3,
              "weights": WEIGHTS}
    store_run("finetune", config, {"test_accuracy": 50.0}, {"tau": _vector().to_tensors()}, root=runs)
    store_run("ch3_finetune", {"pair": "digits"}, {"test": 1.0}, root=runs)  # no tensors: not listed
    assert ex.main(["list", "--root", str(runs)]) == 0
    lines = capsys.readouterr().out.splitlines()
    key = run_key("finetune", config)[:ex.SHORT_KEY]
    assert lines[0].split()[:3] == ["kind", "key", "profile"]
    assert lines[1].split() == ["finetune", key, "smoke", "textures", "linear_only", "(1)", "3", "tau"]
    assert lines[2].startswith("1 exportable run")
    assert ex.main(["run", "finetune", key[:4], str(tmp_path / "out"), "--root", str(runs)]) == 0
    assert ex.main(["verify", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "run finetune" in out and "test_accuracy 50" in out and "verified" in out
    (tmp_path / "out" / "tau.safetensors").write_bytes(b"x")
    assert ex.main(["verify", str(tmp_path / "out")]) == 1
    assert "error:" in capsys.readouterr().err
    assert ex.main(["run", "finetune", "ffff", str(tmp_path / "o2"), "--root", str(runs)]) == 1
    assert "no exportable cached run" in capsys.readouterr().err
