import math
from pathlib import Path

import pandas as pd
import pytest

from paperlib.reference import (
    CH1_PAPER,
    CH1_TABLE5,
    CH1_TEXT,
    CH2_PAPER,
    CH2_TABLE1,
    CH2_TABLE1_DOMAINS,
    CH2_TABLE2,
    CH2_TABLE2_DOMAINS,
    CH2_TABLE3,
    CH2_TABLE4,
    CH2_TEXT,
    CH3_PAPER,
    CH3_TABLE1,
    CH4_PAPER,
    CH4_PVALUES,
    CH4_TABLE_S1,
    CH4_TABLE_S2,
    CH5_PAPER,
    CH5_TABLE1,
    CH5_TABLE2,
    SOURCES,
    side_by_side,
)

PAPERS = Path(__file__).resolve().parents[2] / "shared" / "papers"


def test_table1_spot_values():
    assert set(CH5_TABLE1) == {"ViT-B-32", "ViT-B-16", "ViT-L-14"}
    assert CH5_TABLE1["ViT-B-32"]["linear_only"] == {"abs": 78.37, "norm": 87.42}
    assert CH5_TABLE1["ViT-B-16"]["non_linear"]["norm"] == 80.59
    assert CH5_TABLE1["ViT-L-14"]["linearized"]["abs"] == 85.53
    assert all(m["pretrained"]["norm"] is None for m in CH5_TABLE1.values())
    assert CH5_TABLE1["ViT-L-14"]["pretrained"]["abs"] == 66.40


def test_table2_spot_values_and_consistency_with_table1():
    assert set(CH5_TABLE2) == {1, 2, 3, 4}
    assert CH5_TABLE2[3] == {"single_task": 88.95, "abs": 76.52, "norm": 86.11}
    assert {k: CH5_TABLE2[1][k] for k in ("abs", "norm")} == CH5_TABLE1["ViT-B-32"]["linear_only"]


def test_tables_become_dataframes_and_have_sources():
    t1 = pd.DataFrame(CH5_TABLE1["ViT-B-16"]).T
    assert t1.loc["linear_only", "abs"] == 80.44
    assert pd.DataFrame(CH5_TABLE2).T.loc[4, "norm"] == 86.93
    assert "Table 1" in SOURCES["CH5_TABLE1"] and "Table 2" in SOURCES["CH5_TABLE2"]
    assert all(any(paper in s for paper in (CH5_PAPER, CH1_PAPER, CH4_PAPER, CH3_PAPER, CH2_PAPER))
               for s in SOURCES.values())


def test_side_by_side():
    df = side_by_side({"abs": 50.0, "norm": 60.0}, CH5_TABLE1["ViT-B-32"]["pretrained"], "embedded")
    assert list(df.columns) == ["paper", "ours (embedded)", "difference"]
    assert list(df.index) == ["abs", "norm"]
    assert math.isclose(df.loc["abs", "difference"], 50.0 - 48.40)
    assert math.isnan(df.loc["norm", "paper"]) and math.isnan(df.loc["norm", "difference"])
    assert df.loc["norm", "ours (embedded)"] == 60.0


def test_ch1_table5_all_is_the_mean_of_tgt_and_ref():
    # 4 targets + 4 references: "all" is their mean, up to the paper's rounding to 3 decimals
    assert set(CH1_TABLE5) == {"CLIP", "B-Stand", "B-TL", "S-Stand", "S-TL", "S-TL-p0.5", "S-TL-a0.5"}
    for row in CH1_TABLE5.values():
        assert abs((row["tgt"] + row["ref"]) / 2 - row["all"]) <= 0.051
    assert CH1_TABLE5["S-TL-p0.5"] == {"tgt": 85.2, "ref": 37.9, "all": 61.5}
    assert math.isclose(CH1_TEXT["S-TL-p0.5-11"]["ref"], 39.6)


def test_ch4_tables_match_the_papers_text():
    assert set(CH4_TABLE_S2) == {"CIFAR100", "MiniPlaces", "TinyImageNet100"}
    assert CH4_TABLE_S2["TinyImageNet100"][1.0] == (49.83, 0.76)
    assert CH4_TABLE_S1[("CIFAR100", "TinyImageNet100")][2.0] == (0.43, 0.002)
    assert CH4_PVALUES[("cov", "uniform")] == 0.0165
    text = PAPERS / CH4_PAPER
    if text.exists():  # the papers sit beside the repository on the developers' machines
        body = text.read_text()
        for rows in (CH4_TABLE_S1, CH4_TABLE_S2):
            for per_width in rows.values():
                cells = [f"{m:.2f}(± {s:.{3 if rows is CH4_TABLE_S1 else 2}f})" for m, s in per_width.values()]
                assert "\t".join(cells) in body, cells


def test_ch3_table1_is_the_papers():
    assert CH3_TABLE1["digits"][208] == {"target": 18.4, "finetune": 45.3, "multitask": 22.2, "ours": 66.0}
    text = PAPERS / CH3_PAPER
    if text.exists():
        body = text.read_text().replace("<b>", "").replace("</b>", "")
        for (n1, a), (n2, b) in zip(CH3_TABLE1["objects"].items(), CH3_TABLE1["digits"].items()):
            row = [f"{n1:,}", *map(str, a.values()), f"{n2:,}", *map(str, b.values())]
            assert "\t".join(row) in body, row


def test_ch2_tables_transcribed_and_their_means_are_truncated_row_means():
    """ch2 Tables 1-2 print each mean as the row mean truncated to two decimals (spec Sec. 3); Table 3 rounds."""
    for table in (CH2_TABLE1, CH2_TABLE2):
        for method, (_, accs, mean) in table.items():
            assert math.floor(sum(accs) / len(accs) * 100 + 1e-9) / 100 == pytest.approx(mean, abs=0.011), method
    assert len(CH2_TABLE1["TAPS"][1]) == len(CH2_TABLE1_DOMAINS) == 5 and len(CH2_TABLE2_DOMAINS) == 6
    for method, (_, _, accs, mean) in CH2_TABLE3.items():
        assert round(sum(accs) / len(accs), 1) == pytest.approx(mean, abs=0.051), method
    assert CH2_TABLE4["FTN, R=30"][1][0] == 35.46 and CH2_TEXT["rank1_params_per_task"]["ResNet-50"] == 49_204
