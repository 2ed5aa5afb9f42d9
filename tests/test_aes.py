import pytest

from o1pruner.aes import aes_formula, aes_published


def test_aes_forms_agree_when_accuracy_rises_and_differ_when_it_falls():
    # Marco-o1 O1-Pruner on MATH (Table 2): 73.8 -> 77.5, 1156 -> 657 tokens: AES 0.58.
    assert aes_published(77.5, 657, 73.8, 1156) == pytest.approx(0.58, abs=0.01)
    assert aes_formula(77.5, 657, 73.8, 1156) == pytest.approx(0.58, abs=0.01)
    # Marco-o1 fast prompt on MATH: 73.8 -> 71.0, 1156 -> 1113: published 0.15, formula -0.15.
    assert aes_published(71.0, 1113, 73.8, 1156) == pytest.approx(0.15, abs=0.01)
    assert aes_formula(71.0, 1113, 73.8, 1156) == pytest.approx(-0.15, abs=0.01)


def test_aes_command_reproduces_the_published_table(tmp_path):
    from importlib import resources

    import pandas as pd

    from o1pruner.cli import main

    table = resources.files("o1pruner.paper_data") / "table2_main_results.csv"
    published = pd.read_csv(table)
    given = published.drop(columns=["aes"])
    given.to_csv(tmp_path / "in.csv", index=False)
    assert main(["aes", str(tmp_path / "in.csv"), "--out", str(tmp_path / "out.csv")]) == 0
    scored = pd.read_csv(tmp_path / "out.csv")
    methods = scored["method"] != "reference"
    assert methods.sum() == 24
    diff = (scored.loc[methods, "aes"] - published.loc[methods, "aes"]).abs()
    assert diff.max() <= 0.01, scored.loc[methods].assign(published=published["aes"])[diff > 0.01]
    # Where accuracy fell the paper's own formula gives a different (lower) value.
    fell = methods & (scored["accuracy"] < scored.groupby(["model", "dataset"])["accuracy"].transform("first"))
    assert (scored.loc[fell, "aes_formula"] < scored.loc[fell, "aes"]).all()


def test_aes_command_prints_without_out(tmp_path, capsys):
    from o1pruner.cli import main

    (tmp_path / "in.csv").write_text(
        "model,method,dataset,accuracy,length\nm,reference,MATH,70,1000\nm,sft,MATH,70,500\n"
    )
    assert main(["aes", str(tmp_path / "in.csv")]) == 0
    printed = capsys.readouterr().out
    assert "aes_formula" in printed and "sft" in printed and list(tmp_path.iterdir()) == [tmp_path / "in.csv"]


def test_aes_command_names_a_missing_reference_row(tmp_path):
    from o1pruner.cli import main

    (tmp_path / "in.csv").write_text("model,method,dataset,accuracy,length\nm,sft,MATH,70,900\n")
    assert main(["aes", str(tmp_path / "in.csv"), "--out", str(tmp_path / "o.csv")]) == 2
    assert not (tmp_path / "o.csv").exists()


def test_published_numbers_are_attached_for_a_paper_model():
    import pandas as pd

    from o1pruner.report.tables import attach_published

    main = pd.DataFrame(
        {
            "model": ["m", "m"],
            "method": ["reference", "o1_pruner"],
            "dataset": ["math500", "gsm8k"],
            "accuracy": [70.0, 90.0],
            "mean_tokens": [1000.0, 400.0],
        }
    )
    out = attach_published(main, "Marco-o1-7B")
    assert out["paper_accuracy"].tolist() == [73.8, 91.4] and out["paper_mean_tokens"].tolist() == [1156, 343]
    assert "paper_accuracy" not in attach_published(main, None)


def test_average_row_is_the_mean_of_per_dataset_values():
    import pandas as pd

    from o1pruner.report.tables import with_average

    main = pd.DataFrame(
        {
            "model": "m",
            "method": ["reference", "reference", "x", "x"],
            "dataset": ["a", "b", "a", "b"],
            "n_problems": [10, 20, 10, 20],
            "accuracy": [80.0, 60.0, 90.0, 50.0],
            "mean_tokens": [100.0, 200.0, 50.0, 100.0],
            "aes": [0.0, 0.0, 0.875, 0.0],
            "aes_formula": [0.0, 0.0, 0.875, -0.0833],
            "token_ratio": [1.0, 1.0, 0.5, 0.5],
        }
    )
    avg = with_average(main).query("dataset == 'average'").set_index("method")
    assert avg.loc["x", "accuracy"] == 70.0 and avg.loc["x", "aes"] == 0.4375 and avg.loc["x", "n_problems"] == 30


def test_the_lambda_ablation_ranks_by_the_papers_formula():
    """lambda 0 shortens most but loses accuracy: the published form ranks it first (an accuracy
    drop counts like a gain), the paper's formula last. The table's ranking column is the formula."""
    import pandas as pd

    from o1pruner.aes import aes_formula, aes_published
    from o1pruner.report.tables import lambda_table

    rows = [("reference", 90.0, 100.0), ("o1_pruner_lambda0", 80.0, 40.0), ("o1_pruner", 90.0, 60.0)]
    scored = pd.DataFrame(
        [
            {"method": m, "dataset": "a", "accuracy": acc, "mean_tokens": tokens,
             "aes": aes_published(acc, tokens, 90.0, 100.0), "aes_formula": aes_formula(acc, tokens, 90.0, 100.0)}
            for m, acc, tokens in rows
        ]
    )  # fmt: skip
    table = lambda_table(scored, main_lambda=2.0).set_index("lambda")
    assert list(table.columns[-2:]) == ["avg_aes_formula", "avg_aes_published"]
    assert table["avg_aes_published"].idxmax() == 0.0  # the published form prefers the accuracy drop
    assert table["avg_aes_formula"].idxmax() == 2.0
