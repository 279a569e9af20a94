import json

import pytest
from django.core.management import call_command

from kb import classifier, services
from kb.models import ModelTask, RunStatus, TrainingRun, TriageModel
from tests.support.triage_samples import CATEGORY_LABELS, CATEGORY_TEXTS

pytestmark = pytest.mark.django_db


def _train(labels: list[str] = CATEGORY_LABELS, name: str = "v") -> services.TrainResult:
    return services.triage_model_train(
        task=ModelTask.CATEGORY, name=name, texts=CATEGORY_TEXTS, labels=labels, author=None
    )


def test_the_first_model_is_activated_with_its_data_size_and_metrics():
    result = _train(name="first")

    model = TriageModel.objects.get()
    assert result.activated is True
    assert model.is_active is True
    assert model.name == "first"
    assert (model.n_train, model.n_test) == (12, 3)
    assert model.labels == ["account", "delivery", "refund"]
    assert model.metrics["accuracy"] == result.evaluation.accuracy
    assert set(model.metrics) >= {"accuracy", "macro_f1", "n_train", "n_test"}


def test_a_model_scoring_as_well_on_the_same_held_out_rows_replaces_the_active_one():
    first = _train(name="first")

    second = _train(name="second")

    assert second.activated is True
    assert second.current_accuracy == first.evaluation.accuracy
    assert list(TriageModel.objects.filter(is_active=True).values_list("name", flat=True)) == [
        "second"
    ]


def test_a_worse_model_is_kept_but_not_activated():
    _train(name="good")
    # The same held-out rows (the split depends on the labels only), but training rows whose
    # texts say nothing: the new model cannot do as well as the active one on those rows.
    _train_rows, test_rows = classifier.stratified_split(CATEGORY_LABELS)
    texts = [
        text if index in test_rows else f"xx{index}" for index, text in enumerate(CATEGORY_TEXTS)
    ]

    result = services.triage_model_train(
        task=ModelTask.CATEGORY, name="bad", texts=texts, labels=CATEGORY_LABELS, author=None
    )

    assert result.activated is False
    assert result.model.note.startswith("not activated: the active model")
    assert TriageModel.objects.get(is_active=True).name == "good"


def test_rollback_is_one_action_back_to_the_previous_model():
    _train(name="first")
    _train(name="second")

    previous = services.triage_model_rollback(task=ModelTask.CATEGORY)

    assert previous is not None and previous.name == "first"
    assert TriageModel.objects.get(is_active=True).name == "first"
    assert services.triage_model_rollback(task=ModelTask.SENTIMENT) is None


def _write_csv(path, rows, header="text,label"):  # type: ignore[no-untyped-def]
    lines = [header] + [f'"{text}",{label}' for text, label in rows]
    path.write_text("\ufeff" + "\n".join(lines), encoding="utf-8")
    return path


def test_triage_train_reads_a_csv_with_a_bom_and_prints_accuracy_and_macro_f1(tmp_path, capsys):
    csv_file = _write_csv(
        tmp_path / "tickets.csv", list(zip(CATEGORY_TEXTS, CATEGORY_LABELS, strict=True))
    )

    call_command(
        "triage_train",
        "--csv", str(csv_file), "--text-column", "text", "--label-column", "label",
        "--name", "from csv",
    )  # fmt: skip

    output = capsys.readouterr().out
    assert "15 rows, 3 labels" in output
    assert "held-out 20 %: accuracy" in output
    assert "macro-F1" in output
    assert TriageModel.objects.get(is_active=True).name == "from csv"


def test_triage_eval_trains_on_one_file_and_prints_a_json_object_last(tmp_path, capsys):
    train = _write_csv(
        tmp_path / "train.csv", list(zip(CATEGORY_TEXTS, CATEGORY_LABELS, strict=True))
    )
    test = _write_csv(
        tmp_path / "test.csv",
        [("快递怎么还没到", "delivery"), ("我要退款", "refund"), ("登录不了", "account")],
    )

    call_command(
        "triage_eval",
        "--train", str(train), "--test", str(test),
        "--text-column", "text", "--label-column", "label",
    )  # fmt: skip

    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert sorted(last) == ["accuracy", "macro_f1", "ms_per_message_p50", "n_test", "n_train"]
    assert (last["accuracy"], last["n_train"], last["n_test"]) == (1.0, 15, 3)
    assert TriageModel.objects.count() == 0


def test_an_upload_on_the_triage_page_trains_once_even_if_the_task_runs_twice(tmp_path):
    data = _write_csv(
        tmp_path / "u.csv", list(zip(CATEGORY_TEXTS, CATEGORY_LABELS, strict=True))
    ).read_bytes()
    run = TrainingRun.objects.create(
        task=ModelTask.CATEGORY, name="upload", data=data, text_column="text", label_column="label"
    )

    first = services.training_run_execute(run_id=run.pk)
    second = services.training_run_execute(run_id=run.pk)

    assert first is not None and first.status == RunStatus.DONE
    assert second is None
    assert TriageModel.objects.count() == 1
    assert bytes(TrainingRun.objects.get().data) == b""


def test_an_upload_with_a_wrong_column_fails_with_the_reason(tmp_path):
    data = _write_csv(tmp_path / "u.csv", [("快递没到", "delivery")]).read_bytes()
    run = TrainingRun.objects.create(
        task=ModelTask.CATEGORY, name="upload", data=data, text_column="body", label_column="label"
    )

    finished = services.training_run_execute(run_id=run.pk)

    assert finished is not None and finished.status == RunStatus.FAILED
    assert finished.error == "column(s) body not in the file (it has: text, label)"
    assert TriageModel.objects.count() == 0
